"""Stage `cross_camera`: every model and seed on each labelled set of params.yaml's `other_cameras`.

    python -m stages.cross_camera [--models models] [--out reports/cross_camera]

Scores each model on each set (predict's default model as predict runs it) at the photographs' own size inside the set's field of view, with the same metrics as
the main test set, the seed-averaged model's per-image F1 with its 95% bootstrap interval, and the set's second
annotator as the human reference: reports/cross_camera/summary.json and, per set, reports/cross_camera/<set>/
{summary.json, per_seed.csv, <model>/per_image.csv, annotator2/per_image.csv}. A set whose folder is missing on this
machine is recorded as missing. Which sets are scored is a param, so DVC reruns the stage when the list changes.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from retina.cli import run_main
from retina.config import load_params
from retina.evaluate.cross_camera import score_sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--out", type=Path, default=Path("reports/cross_camera"))
    args = parser.parse_args()
    params = load_params()
    score_sets(params.other_cameras, list(params.models), params.training_seeds, args.models, args.out,
               params.threshold, params.bootstrap, params.bootstrap_seed, params.morphology, params.predict)


if __name__ == "__main__":
    run_main(main)
