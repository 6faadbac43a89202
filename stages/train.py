"""Stage `train@<model>`: train one model of the study.

    python -m stages.train MODEL [--data data/processed] [--models models] [--logs reports/train]

An interrupted run resumes from its last completed epoch (state in models/.resume/MODEL.pt) when rerun.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from stages.cli import run_main
from stages.config import load_params, model_spec
from stages.training import Trainer

log = logging.getLogger("train")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--logs", type=Path, default=Path("reports/train"))
    args = parser.parse_args()
    params = load_params()
    spec = model_spec(params, args.model)
    trainer = Trainer(spec, params.train, args.data, args.models / spec.name, args.logs / spec.name,
                      args.models / ".resume" / f"{spec.name}.pt")
    final = trainer.fit()
    log.info("%s done: %s", spec.name, final)


if __name__ == "__main__":
    run_main(main)
