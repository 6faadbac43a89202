"""Stage `photo_ranges`: the training photographs' range of brightness, contrast, sharpness, field of view, vessel
density and widest vessels' calibre (µm), against which predict flags a photograph to doubt (retina/predict/quality.py).

    python -m stages.photo_ranges [--raw data/raw] [--out reports/photo_ranges.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from retina.atomic import write_text
from retina.cli import run_main
from retina.config import load_params
from retina.data.dataset import list_pairs
from retina.predict.quality import training_ranges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--out", type=Path, default=Path("reports/photo_ranges.json"))
    args = parser.parse_args()
    how = load_params().morphology
    ranges = training_ranges(list_pairs(args.raw, "train"), how.fov_degrees, how.um_per_degree)
    write_text(args.out, json.dumps(ranges, indent=1) + "\n")


if __name__ == "__main__":
    run_main(main)
