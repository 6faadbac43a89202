"""Stage `evaluate`: score every model of params.yaml on the 20 test images at 512x512.

    python -m stages.evaluate [--models models] [--data data/processed] [--out reports/eval]
                              [--predictions data/predictions]

Writes, per model, reports/eval/<model>/{metrics.json, per_image.csv, morphology.csv, roc.csv, pr.csv} and
data/predictions/<model>.npy (probabilities x 255 as uint8), plus reports/eval/summary.json and
reports/eval/truth_morphology.csv.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from stages.atomic import atomic_path
from stages.cli import run_main
from stages.config import load_params
from stages.data import NATIVE_SIZE, load_arrays, processed_dir
from stages.evaluation import evaluate_model, morphology_table
from stages.timing import timed

log = logging.getLogger("evaluate")
SUMMARY_KEYS = ("fov_f1", "fov_auc_roc", "fov_auc_pr", "fov_accuracy", "fov_sensitivity", "fov_specificity",
                "image_f1", "image_accuracy")


def evaluate_all(models: list[str], model_root: Path, data_root: Path, out: Path, predictions: Path,
                 threshold: float) -> dict[str, dict[str, float]]:
    """Evaluate each model's best checkpoint; replace `out` and `predictions` only when all succeed."""
    results = {name: evaluate_model(model_root / name / "best.pt", data_root, threshold) for name in models}
    truth = load_arrays(processed_dir(data_root, NATIVE_SIZE) / "test")
    summary = {}
    with atomic_path(out) as tmp, atomic_path(predictions) as tmp_pred:
        tmp.mkdir(parents=True)
        tmp_pred.mkdir(parents=True)
        morphology_table(truth.masks, truth.fov, truth.ids).to_csv(tmp / "truth_morphology.csv", index=False)
        for name, ev in results.items():
            folder = tmp / name
            folder.mkdir(parents=True)
            ev.per_image.to_csv(folder / "per_image.csv", index=False, float_format="%.6f")
            ev.morphology.to_csv(folder / "morphology.csv", index=False, float_format="%.6f")
            pd.DataFrame({"fpr": ev.curves["fpr"], "tpr": ev.curves["tpr"]}).to_csv(folder / "roc.csv", index=False)
            pd.DataFrame({"recall": ev.curves["recall"], "precision": ev.curves["precision"]}).to_csv(
                folder / "pr.csv", index=False)
            metrics = {"pooled": ev.pooled, **ev.info}
            (folder / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
            np.save(tmp_pred / f"{name}.npy", np.round(ev.prob * 255).astype(np.uint8))
            summary[name] = {k: round(ev.pooled[k], 5) for k in SUMMARY_KEYS}
            log.info("%s: %s", name, summary[name])
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--out", type=Path, default=Path("reports/eval"))
    parser.add_argument("--predictions", type=Path, default=Path("data/predictions"))
    args = parser.parse_args()
    params = load_params()
    with timed("evaluate"):
        evaluate_all(list(params.models), args.models, args.data, args.out, args.predictions, params.threshold)


if __name__ == "__main__":
    run_main(main)
