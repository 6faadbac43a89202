"""Segment vessels in your own fundus photographs with a trained model, and measure the vessel tree.

    python -m stages.predict IMAGE [IMAGE ...] --model silu256_se --out predictions/

For each IMAGE writes, at the photograph's own size: <name>_probability.png (grey, 0-255), <name>_vessels.png
(binary), <name>_overlay.png (vessels in green on the photograph) and <name>_measures.json (vessel length,
density, calibre, branch/end points, tortuosity; in pixels of the photograph; null where undefined).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
from PIL import Image

from stages.atomic import atomic_path, write_text
from stages.cli import run_main
from stages.config import load_params, model_spec
from stages.inference import load_checkpoint
from stages.morphology import vessel_measures
from stages.prediction import overlay, predict_photograph, read_photograph

log = logging.getLogger("predict")


def save_png(array: np.ndarray, path: Path) -> None:
    """Write a uint8 array as PNG atomically."""
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG")


def predict_files(images: list[Path], checkpoint: Path, out: Path, threshold: float) -> list[dict]:
    """Predict each image (all are read and checked before anything is written); return their measures."""
    photos = [(path, read_photograph(path)) for path in images]
    model, spec, _ = load_checkpoint(checkpoint)
    results = []
    for path, photo in photos:
        start = time.perf_counter()
        pred = predict_photograph(model, spec, photo, threshold)
        seconds = time.perf_counter() - start
        stem = out / path.stem
        save_png(np.round(pred.probability * 255).astype(np.uint8), Path(f"{stem}_probability.png"))
        save_png(pred.vessels.astype(np.uint8) * 255, Path(f"{stem}_vessels.png"))
        save_png(overlay(photo, pred.vessels), Path(f"{stem}_overlay.png"))
        tree = {k: None if math.isnan(v) else v for k, v in vessel_measures(pred.vessels, pred.fov).items()}
        measures = {"image": str(path), "model": spec.name, "size": list(photo.shape[:2]), "units": "pixels",
                    "seconds": round(seconds, 3), **tree}
        write_text(Path(f"{stem}_measures.json"), json.dumps(measures, indent=1) + "\n")
        log.info("%s: %.2f s, vessel density %.3f", path, seconds, measures["density"])
        results.append(measures)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--model", default="silu256_se", help="a model named in params.yaml")
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder of trained models")
    parser.add_argument("--out", type=Path, default=Path("predictions"))
    args = parser.parse_args()
    params = load_params()
    spec = model_spec(params, args.model)
    predict_files(args.images, args.models / spec.name / "best.pt", args.out, params.threshold)


if __name__ == "__main__":
    run_main(main)
