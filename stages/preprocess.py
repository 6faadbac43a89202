"""Stage `preprocess`: resize, binarise, find fields of view and split by eye, for every model input size.

    python -m stages.preprocess [--raw data/raw] [--out data/processed]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from retina.data.preparation import preprocess
from retina.cli import run_main
from retina.config import load_params
from retina.timing import timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--out", type=Path, default=Path("data/processed"))
    args = parser.parse_args()
    params = load_params()
    with timed("preprocess"):
        preprocess(args.raw, args.out, params.inputs, params.val_eyes, params.split_seed)


if __name__ == "__main__":
    run_main(main)
