"""The optimiser and learning-rate schedule of one training run (train.optimizer, train.weight_decay, train.lr,
train.warmup), both stepped once per training step."""
from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler

from retina.config import TrainSettings

WARMUP_START = 1 / 25  # a warm-up rises from lr/25, where torch's OneCycleLR starts by default


def make_optimizer(parameters, settings: TrainSettings) -> torch.optim.Optimizer:
    """Adam, or AdamW with train.weight_decay (decoupled from the gradient), at train.lr."""
    if settings.optimizer == "adamw":
        return torch.optim.AdamW(parameters, lr=settings.lr, weight_decay=settings.weight_decay)
    return torch.optim.Adam(parameters, lr=settings.lr)


def make_schedule(optimizer: torch.optim.Optimizer, settings: TrainSettings, total_steps: int) -> LRScheduler:
    """Cosine decay from train.lr to 0 over the run's steps; with train.warmup > 0, first a linear rise from lr/25 to
    lr over that fraction of the steps, then the cosine decay over the rest (a one-cycle schedule)."""
    warm = round(settings.warmup * total_steps)  # steps of the linear warm-up
    if warm == 0:
        return CosineAnnealingLR(optimizer, total_steps)

    def factor(step: int) -> float:
        if step < warm:
            return WARMUP_START + (1 - WARMUP_START) * step / warm
        return 0.5 * (1 + math.cos(math.pi * min(step - warm, total_steps - warm) / (total_steps - warm)))

    return LambdaLR(optimizer, factor)


def describe_recipe(settings: TrainSettings) -> str:
    """The optimiser and schedule in words, for the report: e.g. 'Adam at learning rate 0.002 cosine-decayed to 0
    over the run'."""
    optimiser = f"AdamW (weight decay {settings.weight_decay:g})" if settings.optimizer == "adamw" else "Adam"
    warm = (f" after a linear warm-up from {settings.lr * WARMUP_START:g} over the first {settings.warmup:.0%} of the "
            "steps") if settings.warmup else ""
    return f"{optimiser} at learning rate {settings.lr:g} cosine-decayed to 0 over the run{warm}"
