"""Train every out-of-date (model, seed) of the pipeline JOBS at a time, recorded in dvc.lock as `dvc repro` would.

    dvc repro preprocess && retina-train-side-by-side --jobs 12 && dvc repro

`dvc repro` runs one stage at a time; a GPU (or a many-core CPU) has room for several trainings at once. This runs
the training stages that `dvc status` lists, each with its own command from dvc.yaml, and commits each that succeeds
(`dvc commit`), so the final `dvc repro` runs only evaluation, the cross-camera set and the report. On the 2-core
CPUs of CI and the developers' machines, jobs above 1 only share the cores: use `dvc repro` there.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from retina.cli import run_main
from retina.dvc_tools.side_by_side import train_side_by_side

log = logging.getLogger("train_side_by_side")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="trainings at once")
    parser.add_argument("--only", nargs="+", default=[], metavar="PATTERN",
                        help="train only the stale stages whose names match one of these shell patterns "
                             "(train@0, 'train_variant@camera_robust-*')")
    args = parser.parse_args()
    done = train_side_by_side(Path.cwd(), args.jobs, args.only)
    log.info("trained and committed %d stages: %s", len(done), ", ".join(done) or "none (all up to date)")


def cli() -> None:
    """The console script `retina-train-side-by-side`."""
    run_main(main)


if __name__ == "__main__":
    cli()
