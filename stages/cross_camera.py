"""Stage `cross_camera`: every model and seed on a labelled set from another camera (STARE), when one is given.

    RETINA_CROSS_CAMERA=../shared/data/stare python -m stages.cross_camera [--models models]
                                                                        [--out reports/cross_camera]

Scores each model at the photographs' own size inside a field of view found from each photograph, with the same
metrics as the main test set, the seed-averaged model's per-image F1 with its 95% bootstrap interval, and the second
annotator as the human reference: reports/cross_camera/{summary.json, per_seed.csv, <model>/per_image.csv,
annotator2/per_image.csv}. Without $RETINA_CROSS_CAMERA it writes only a summary.json that says so. DVC does not
watch environment variables: after setting or changing it, run `dvc repro -f -s cross_camera`.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from retina.cli import run_main
from retina.config import load_params
from retina.evaluate.cross_camera import cross_camera_root, read_labelled_set, score_cross_camera, skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--out", type=Path, default=Path("reports/cross_camera"))
    args = parser.parse_args()
    params = load_params()
    root = cross_camera_root()
    if root is None:
        skip(args.out)
        logging.getLogger("cross_camera").info("no labelled set from another camera configured: skipped")
        return
    score_cross_camera(list(params.models), params.training_seeds, args.models, read_labelled_set(root), args.out,
                       params.threshold, params.bootstrap, params.bootstrap_seed)


if __name__ == "__main__":
    run_main(main)
