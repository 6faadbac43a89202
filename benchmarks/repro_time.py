"""What the full `dvc repro` trains for on this machine, predicted from a few real epochs of every model.

    python -m benchmarks.repro_time [--epochs 4] [--models baseline silu256 ...] [--precision fp32] [--data ...]
                                    [--width 8] [--depth 3]

Each model of params.yaml trains for --epochs epochs exactly as its train stage would (retina.train.trainer: the same
precision, layout, crops, augmentation and validation every train.val_every epochs), in a scratch folder; its
seconds per epoch times the model's schedule times the number of training seeds is its share of the full repro.
--precision overrides train.precision, to set fp32 beside the default's bf16 on the same machine. Where the full run
is out of reach (a day on an AVX2-only CPU), this is the measurement behind the README's time table. Needs
`dvc repro preprocess`.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

from retina.config import PRECISIONS, Params, load_params
from retina.train.device import select_device, use_bf16
from retina.machine import describe
from retina.train.trainer import train_scratch


def seconds_per_epoch(params: Params, name: str, epochs: int, precision: str, data: Path, scratch: Path,
                      **model: int) -> float:
    """Seconds per epoch of `name` trained for `epochs` in `precision` as its stage trains it (the Trainer's own
    run.json figure); `model` overrides the network's width or depth."""
    settings = dataclasses.replace(params.train_settings(name, params.training_seeds[0]), epochs=epochs,
                                   precision=precision)
    run = scratch / name
    spec = dataclasses.replace(params.models[name], **model)
    train_scratch(spec, settings, data, run, fresh=True)
    return json.loads((run / "logs" / "run.json").read_text())["seconds_per_epoch"]


def main() -> None:
    params = load_params()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4, help="epochs timed per model (a multiple of train.val_every "
                        "keeps validation's share as in the full run)")
    parser.add_argument("--models", nargs="+", choices=list(params.models), default=list(params.models),
                        help="models to time (default: every model of params.yaml)")
    parser.add_argument("--precision", choices=PRECISIONS, default=params.train.precision,
                        help="train.precision for the timed runs (default: params.yaml's)")
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--width", type=int, help="model.width for the timed runs (default: params.yaml's)")
    parser.add_argument("--depth", type=int, help="model.depth for the timed runs (default: params.yaml's)")
    args = parser.parse_args()
    model = {k: v for k, v in (("width", args.width), ("depth", args.depth)) if v is not None}
    seeds = len(params.training_seeds)
    device = select_device(params.train.device)
    print(f"{describe(device)}; precision {args.precision} ({'bf16' if use_bf16(args.precision, device) else 'fp32'} "
          f"in effect); {args.epochs} epochs timed per model; {model or 'the network of params.yaml'}")
    print(f"{'model':<15}{'s/epoch':>9}{'epochs':>8}{'seeds':>6}{'predicted h':>13}")
    total = 0.0
    with tempfile.TemporaryDirectory(prefix="repro-time-") as scratch:
        for name in args.models:
            rate = seconds_per_epoch(params, name, args.epochs, args.precision, args.data, Path(scratch), **model)
            hours = rate * params.epochs_of(name) * seeds / 3600
            total += hours
            print(f"{name:<15}{rate:>9.2f}{params.epochs_of(name):>8}{seeds:>6}{hours:>13.2f}", flush=True)
    print(f"training of the full repro, one stage at a time: {total:.1f} h")


if __name__ == "__main__":
    main()
