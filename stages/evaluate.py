"""Stage `evaluate`: score every model and seed of params.yaml on the 20 test images at 512x512.

    python -m stages.evaluate [--models models] [--data data/processed] [--out reports/eval]
                              [--predictions data/predictions]

Writes reports/eval/<model>/seed<k>/{metrics.json, per_image.csv, morphology.csv}; per model the scores of the
seed-averaged probabilities (per_image.csv) and ROC/PR curves pooled over seeds (roc.csv, pr.csv);
reports/eval/{summary.json (mean and sd over seeds), per_seed.csv, truth_morphology.csv, ceiling.csv}; and
data/predictions/<model>/seed<k>.npy (probabilities x 65535 as uint16). With RETINA_DRIVE set to a DRIVE folder,
also reports/eval/annotator2/ (DRIVE's second annotator scored like a model: the human reference); after setting
or changing it, rerun with `dvc repro -f -s evaluate` (DVC does not watch environment variables).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from retina.cli import run_main
from retina.data.arrays import load_arrays, processed_dir
from retina.config import load_params
from retina.data.dataset import NATIVE_SIZE
from retina.data.drive import drive_root, second_annotator
from retina.evaluate.scoring import evaluate_all
from retina.timing import timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--out", type=Path, default=Path("reports/eval"))
    parser.add_argument("--predictions", type=Path, default=Path("data/predictions"))
    args = parser.parse_args()
    params = load_params()
    drive = drive_root()
    annotator2 = None if drive is None else second_annotator(
        drive, load_arrays(processed_dir(args.data, NATIVE_SIZE) / "test").ids)
    with timed("evaluate"):
        evaluate_all(list(params.models), params.training_seeds, args.models, args.data, args.out, args.predictions,
                     params.threshold, params.morphology, annotator2)


if __name__ == "__main__":
    run_main(main)
