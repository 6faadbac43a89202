"""Summarise a training-budget sweep run as DVC experiments into reports/budget.md.

    dvc exp run --queue -n w16-e60 -S seeds=[0] -S model.width=16 -S train.epochs=60 ...   # one per setting
    dvc queue start -j 1                                                                 # run them one by one
    python -m stages.budget [--out reports/budget.md]

Per model and experiment: width, epochs, learning rate, batch, crop, validation frequency, soft masks; train time
and seconds per epoch with the machine; best validation Dice and its last-quarter gain; test F1 and AUC-ROC.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from retina.cli import run_main
from retina.report.budget import write_budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/budget.md"))
    print(write_budget(parser.parse_args().out))


if __name__ == "__main__":
    run_main(main)
