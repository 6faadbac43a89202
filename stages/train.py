"""Stage `train@<seed>` / `train_variant@<model>-<seed>`: train one model of the study for one seed.

    python -m stages.train MODEL --seed K [--data data/processed] [--models models] [--logs reports/train]

Writes models/MODEL/seedK/best.pt and reports/train/MODEL/seedK/ (dvclive logs, run.json). A run killed at any
point resumes from its last completed epoch when rerun (state in models/.resume/MODEL-seedK.pt), even after DVC
has removed the stage's outputs, and ends with the same files and metrics as an uninterrupted run.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from retina.cli import run_main
from retina.config import load_params, model_spec, run_dir
from retina.trainer import Trainer

log = logging.getLogger("train")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--seed", type=int, required=True, help="a training seed listed in params.yaml 'seeds'")
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--logs", type=Path, default=Path("reports/train"))
    args = parser.parse_args()
    params = load_params()
    spec = model_spec(params, args.model)
    run = run_dir(spec.name, args.seed)
    trainer = Trainer(spec, params.train_settings(spec.name, args.seed), args.data, args.models / run, args.logs / run,
                      args.models / ".resume" / f"{run.replace('/', '-')}.pt")
    log.info("%s done: %s", run, trainer.fit())


if __name__ == "__main__":
    run_main(main)
