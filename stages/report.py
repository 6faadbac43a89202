"""Stage `report`: draw the study's figures and write reports/report.md with the claims table.

    python -m stages.report [--train reports/train] [--eval reports/eval] [--predictions data/predictions]
                            [--data data/processed] [--out reports]
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from stages.atomic import atomic_path, write_text
from stages.cli import run_main
from stages.config import Params, load_params
from stages.data import NATIVE_SIZE, load_arrays, processed_dir, read_split_json
from stages.figures import comparison, prediction_panels, roc_pr, training_curves
from stages.reporting import build_report, load_history

log = logging.getLogger("report")
PANEL_IMAGES = (0, 7, 14)  # test images shown side by side for every model
ZOOM = (slice(160, 320), slice(300, 460))  # a region with fine vessels, for the SE comparison


def draw_figures(params: Params, train_root: Path, eval_root: Path, predictions: Path, data_root: Path,
                 folder: Path) -> dict[str, str]:
    """Write every figure into `folder`; return {title: path relative to reports/}."""
    models = [m for m in params.models if (predictions / f"{m}.npy").is_file()]
    test = load_arrays(processed_dir(data_root, NATIVE_SIZE) / "test")
    images = test.images.astype(np.float32) / 255
    probs = {m: np.load(predictions / f"{m}.npy").astype(np.float32) / 255 for m in models}
    figures = {}
    for m in models:
        spec = params.models[m]
        title = f"{m}: {spec.activation}, {spec.image_size}x{spec.image_size}, attention {spec.attention}"
        training_curves(load_history(train_root / m), title, folder / f"curves_{m}.png")
        figures[f"Training curves, {m}"] = f"figures/curves_{m}.png"
    ids = [i for i in PANEL_IMAGES if i < len(images)]
    prediction_panels(images, test.masks, probs, ids, folder / "panels.png")
    figures["Original / predictions / ground truth"] = "figures/panels.png"
    if {"silu256", "silu256_se"} <= set(probs):
        comparison(images[0], test.masks[0], ("silu256", probs["silu256"][0]), ("silu256_se", probs["silu256_se"][0]),
                   params.threshold, ZOOM, folder / "se_comparison.png")
        figures["SE vs no SE, test image 0"] = "figures/se_comparison.png"
    curves = {m: {"roc": pd.read_csv(eval_root / m / "roc.csv"), "pr": pd.read_csv(eval_root / m / "pr.csv")}
              for m in models}
    roc_pr(curves, folder / "roc_pr.png")
    figures["ROC and precision-recall"] = "figures/roc_pr.png"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=Path("reports/train"))
    parser.add_argument("--eval", type=Path, default=Path("reports/eval"))
    parser.add_argument("--predictions", type=Path, default=Path("data/predictions"))
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    params = load_params()
    with atomic_path(args.out / "figures") as tmp:
        figures = draw_figures(params, args.train, args.eval, args.predictions, args.data, tmp)
    text, claims = build_report(params, args.train, args.eval, figures, args.raw / "manifest.sha256",
                                args.out / "timing", len(read_split_json(args.data)["train"]))
    write_text(args.out / "report.md", text)
    for c in claims:
        log.info("claim: %s -> %s (%s)", c.claim, c.verdict, c.measured)


if __name__ == "__main__":
    run_main(main)
