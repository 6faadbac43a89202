"""Segment vessels in your own fundus photographs with a trained model, and measure the vessel tree.

    python -m stages.predict IMAGE [IMAGE ...] --model silu256_se --out predictions/

For each IMAGE writes, at the photograph's own size: <name>_probability.png (grey, 0-255), <name>_vessels.png
(binary), <name>_overlay.png (vessels in green on the photograph) and <name>_measures.json (vessel length,
density, calibre, branch/end points, tortuosity; in pixels of the photograph; null where undefined).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from retina.cli import run_main
from retina.config import load_params, model_spec, run_dir
from retina.photos import predict_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--model", default="silu256_se", help="a model named in params.yaml")
    parser.add_argument("--seed", type=int, help="which training seed's model (default: the first in params.yaml)")
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder of trained models")
    parser.add_argument("--out", type=Path, default=Path("predictions"))
    args = parser.parse_args()
    params = load_params()
    spec = model_spec(params, args.model)
    seed = params.seeds[0] if args.seed is None else args.seed
    predict_files(args.images, args.models / run_dir(spec.name, seed) / "best.pt", args.out, params.threshold)


if __name__ == "__main__":
    run_main(main)
