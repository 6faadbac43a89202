"""Stage `train@<seed>` / `train_variant@<model>-<seed>`: train one model of the study for one seed.

    python -m stages.train MODEL --seed K [--data data/processed] [--models models] [--logs reports/train]

Writes models/MODEL/seedK/best.pt (the weights, tracked by git) and reports/train/MODEL/seedK/ (dvclive logs,
run.json), both replaced only when the run ends. A run stopped at any point (Ctrl-C, SIGTERM, a kill) resumes from its
last completed epoch when rerun (state in models/.resume/MODEL-seedK.pt) and ends with the same files and metrics as an
uninterrupted run.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from retina.cli import run_main
from retina.config import load_params, model_spec, run_dir, training_stage
from retina.train.trainer import Trainer

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
    resume = args.models / ".resume" / f"{run.replace('/', '-')}.pt"
    trainer = None
    try:
        trainer = Trainer(spec, params.train_settings(spec.name, args.seed), args.data, args.models / run,
                          args.logs / run, resume)
        log.info("%s done: %s", run, trainer.fit())
    except KeyboardInterrupt:
        reached = f"had completed {trainer.epochs_done} of {trainer.settings.epochs} epochs" if trainer else \
            "was still loading its data"
        # plain `dvc repro` would skip the stage: its inputs and committed outputs are unchanged
        print(f"interrupted: {run} {reached}, kept in {resume}; its committed weights and logs are unchanged. "
              f"`dvc repro --force -s {training_stage(spec.name, args.seed)}` (or this command again) resumes it.",
              file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    run_main(main)
