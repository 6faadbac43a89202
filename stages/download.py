"""Stage `download`: fetch the set from its source, verify it, and write data/raw/ with a sha256 manifest.

    python -m stages.download [--out data/raw] [--reference data/reference.sha256]

The source is data.source in params.yaml, or $RETINA_DATA when set. Nothing is written unless the whole set
verifies; a checksum mismatch against the reference is a warning, or an error with data.strict: true.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from retina.cli import run_main
from retina.config import load_params
from retina.data.sources import import_dataset
from retina.timing import timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/raw"))
    parser.add_argument("--reference", type=Path, default=Path("data/reference.sha256"))
    args = parser.parse_args()
    params = load_params()
    with timed("download"):
        import_dataset(params.data_source(), args.out, args.reference, params.strict)


if __name__ == "__main__":
    run_main(main)
