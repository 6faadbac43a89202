"""Training and inference speed of the study's three models: the plain way vs the project's path, same run.

    python -m benchmarks.speed [--steps 4] [--accuracy-seeds 2] [--skip-accuracy] [--compile]

(a) plain: fp32, NCHW, eager, whole images at the model's input size (how most public U-Net code trains);
(b) project: the training path of retina/train/trainer.py — bf16 autocast where the CPU or GPU runs bf16 natively,
    channels_last where that is faster (retina.train.device.training_layout), random crops of train.crop for inputs
    larger than it; inference in channels_last and the training precision, as training's validations run it
    (evaluate, the other-camera stage and predict predict in fp32 on every machine, in channels_last).
Prints images/s, megapixels/s, achieved FLOP/s and its fraction of a matmul peak measured in the same run, and the
ratio b/a; with --compile, also (b) with the model under torch.compile against (b) eager, timed again in turn, and
the compile time. Then the accuracy check: silu256 trained to convergence (params.yaml's schedule) with several seeds in
fp32 and in the project's precision; the two means must agree within the noise measured from the seeds.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from retina.data.arrays import processed_dir
from retina.config import ModelSpec, load_params
from retina.train.augment import patch_side
from retina.train.device import autocast, bf16_supported, select_device, training_layout, use_bf16
from retina.machine import describe
from retina.train.model import UNet
from retina.train.trainer import loss_terms, total_loss, train_scratch


def matmul_peak(dtype: torch.dtype, device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    """Best FLOP/s of an n x n matrix product in `dtype`."""
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def forward_flops(spec: ModelSpec, size: int) -> int:
    """FLOPs of one forward pass on one size x size image."""
    model = UNet.from_spec(spec)
    with FlopCounterMode(display=False) as counter:
        model(torch.rand(1, 3, size, size))
    return counter.get_total_flops()


def time_training(spec: ModelSpec, size: int, batch: int, steps: int, fast: bool, bf16: bool,
                  device: torch.device, compiled: bool = False) -> tuple[float, float]:
    """Seconds per training step on random data of a batch of size x size images, and seconds of the first step
    (with `compiled`, the model under torch.compile: the first step compiles it)."""
    torch.manual_seed(0)
    fmt = training_layout(device, fast and bf16) if fast else torch.contiguous_format
    model = UNet.from_spec(spec).to(device, memory_format=fmt).train()
    forward = torch.compile(model) if compiled else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 3, size, size, device=device).contiguous(memory_format=fmt)
    y = (torch.rand(batch, 1, size, size, device=device) > 0.9).float()

    def step() -> None:
        with autocast(device, fast and bf16):
            logits = forward(x)
        loss = total_loss("bce+dice", loss_terms(logits, y))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps, first


@torch.no_grad()
def time_inference(spec: ModelSpec, batch: int, repeats: int, fast: bool, bf16: bool, device: torch.device) -> float:
    """Seconds per image of a forward pass at the model's input size."""
    fmt = torch.channels_last if fast else torch.contiguous_format
    model = UNet.from_spec(spec).to(device, memory_format=fmt).eval()
    x = torch.rand(batch, 3, spec.image_size, spec.image_size, device=device).contiguous(memory_format=fmt)
    with autocast(device, fast and bf16):
        model(x)
        start = time.perf_counter()
        for _ in range(repeats):
            model(x)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats / batch


def speed_table(steps: int, compiled: bool) -> None:
    params = load_params()
    device = select_device(params.train.device)
    bf16 = bf16_supported(device)
    peak32 = matmul_peak(torch.float32, device)
    peak = matmul_peak(torch.bfloat16, device) if bf16 else peak32
    print(f"device {describe(device)}, native bf16: {bf16}")
    print(f"matmul peak: fp32 {peak32 / 1e9:.0f} GFLOP/s" + (f", bf16 {peak / 1e9:.0f} GFLOP/s" if bf16 else ""))
    print()
    print(f"{'model':<15}{'path':<9}{'input':>7}{'img/s':>8}{'Mpx/s':>8}{'GFLOP/s':>9}{'of peak':>9}"
          f"{'infer ms/img':>14}")
    batch = params.train.batch_size
    for spec in params.models.values():
        crop = patch_side(params.train.crop, spec.image_size)
        rates = {}
        for path, size, fast in (("plain", spec.image_size, False), ("project", crop, True)):
            step, _ = time_training(spec, size, batch, steps, fast, bf16, device)
            infer = time_inference(spec, batch, 2, fast, bf16, device)
            flops = 3 * forward_flops(spec, size) * batch / step  # backward ~ 2x forward
            ref = peak if fast and bf16 else peak32
            rates[path] = (size * size * batch / step, 1 / infer)
            print(f"{spec.name:<15}{path:<9}{size:>7}{batch / step:>8.2f}{size * size * batch / step / 1e6:>8.2f}"
                  f"{flops / 1e9:>9.0f}{flops / ref:>9.1%}{1000 * infer:>14.0f}")
        print(f"{spec.name:<15}{'ratio':<9}{'':>7}{'':>8}{rates['project'][0] / rates['plain'][0]:>7.2f}x"
              f"{'':>18}{rates['project'][1] / rates['plain'][1]:>13.2f}x")
        if compiled:
            eager, _ = time_training(spec, crop, batch, steps, True, bf16, device)
            step, first = time_training(spec, crop, batch, steps, True, bf16, device, compiled=True)
            print(f"{spec.name:<15}{'compiled':<9}{crop:>7}{batch / step:>8.2f}  training step {eager:.3f} s eager -> "
                  f"{step:.3f} s compiled ({eager / step:.2f}x), after {first:.0f} s of compiling")


def accuracy_check(seeds: int, data_root: Path) -> None:
    """silu256 at params.yaml's schedule, `seeds` seeds in fp32 and in the project's precision: PASS when the two
    mean validation Dice differ by at most twice the standard error of that difference (from the seeds' spread)."""
    params = load_params()
    spec = params.models["silu256"]
    if not (processed_dir(data_root, spec.image_size, spec.input) / "train").is_dir():
        print(f"\naccuracy check skipped: no processed data under {data_root} (run `dvc repro preprocess`)")
        return
    if not use_bf16(params.train.precision, select_device(params.train.device)):
        print(f"\naccuracy check skipped: train.precision {params.train.precision} trains in fp32 on this device, "
              "the plain path's precision (the two runs would be the same computation)")
        return
    dice: dict[str, list[float]] = {}
    for precision in ("fp32", params.train.precision):
        for seed in range(seeds):
            settings = dataclasses.replace(params.train_settings(spec.name, params.training_seeds[0]),
                                           precision=precision, seed=seed)
            out = Path("/tmp/retina-bench") / f"{precision}-{seed}"
            start = time.perf_counter()
            trainer = train_scratch(spec, settings, data_root, out, fresh=True)
            label = f"{precision} ({'bf16' if trainer.bf16 else 'fp32'} in effect)"
            dice.setdefault(label, []).append(trainer.best["val/dice"])
            print(f"  {label}, seed {seed}: best val Dice {trainer.best['val/dice']:.4f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    (a_label, a), (b_label, b) = dice.items()
    mean_a, mean_b = statistics.mean(a), statistics.mean(b)
    if seeds < 2:
        print("\naccuracy check needs two seeds or more to measure the noise (--accuracy-seeds)")
        return
    tolerance = 2 * math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    print(f"\naccuracy check, silu256, {params.epochs_of(spec.name)} epochs, {seeds} seeds each: "
          f"{a_label} {mean_a:.4f}, "
          f"{b_label} {mean_b:.4f}; difference {abs(mean_a - mean_b):.4f}, tolerance {tolerance:.4f} "
          f"(2 standard errors from the seed spread): {'PASS' if abs(mean_a - mean_b) <= tolerance else 'FAIL'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4, help="timed training steps per measurement")
    parser.add_argument("--accuracy-seeds", type=int, default=2, help="seeds per precision in the accuracy check")
    parser.add_argument("--skip-accuracy", action="store_true", help="print the speed table only")
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--compile", action="store_true", help="also time the project's step under torch.compile")
    args = parser.parse_args()
    speed_table(args.steps, args.compile)
    if not args.skip_accuracy:
        accuracy_check(args.accuracy_seeds, args.data)


if __name__ == "__main__":
    main()
