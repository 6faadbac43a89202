"""Separate the effect of the activation from the effect of the resolution, from DVC experiments.

    dvc exp run -S activation=silu        # SiLU at 512
    dvc exp run -S image_size=256         # ReLU at 256
    retina-ablation [--out reports/ablation.md]

Reads `dvc exp show --json --all-commits` and each experiment's per-image scores from its git ref; the study's
silu256 model supplies SiLU at 256. Writes a 2x2 table (activation x resolution) of test F1 and AUC inside the
field of view, and paired per-image comparisons.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from retina.report.ablation import committed_params, write_ablation
from retina.cli import run_main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/ablation.md"))
    out = parser.parse_args().out
    print(write_ablation(committed_params(), out))


def cli() -> None:
    """The console script `retina-ablation`."""
    run_main(main)


if __name__ == "__main__":
    cli()
