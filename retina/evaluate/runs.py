"""Score a set of trained (model, seed) runs one way wherever they are scored (the test set, another camera, the
benchmarks): each run predicted and scored, each model's seeds summarised as mean and sd."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class ScoredRun:
    """One trained run's probabilities and its scores."""

    model: str
    seed: int
    probs: Any  # what the predictor returned: an (N, H, W) array, or a list of (H, W) arrays of several sizes
    per_image: pd.DataFrame
    pooled: dict[str, float]
    info: dict[str, Any]


def score_runs(models: list[str], seeds: tuple[int, ...] | list[int],
               predict: Callable[[str, int], tuple[Any, dict[str, Any]]],
               score: Callable[[Any], tuple[pd.DataFrame, dict[str, float]]]) -> Iterator[list[ScoredRun]]:
    """Each model's runs, one list per model (its seeds in order): `predict(model, seed)` gives the probabilities
    and facts about the run, `score(probabilities)` the per-image table and the pooled scores. A list is yielded as
    soon as its model is done, so callers write each model's outputs before the next model is predicted."""
    for name in models:
        runs = []
        for seed in seeds:
            probs, info = predict(name, seed)
            per_image, pooled = score(probs)
            runs.append(ScoredRun(name, seed, probs, per_image, pooled, info))
        yield runs


def seed_average(runs: list[ScoredRun]) -> Any:
    """The runs' probabilities averaged over seeds, image by image (an array, or a list like the runs' own)."""
    if isinstance(runs[0].probs, np.ndarray):
        return np.mean([r.probs for r in runs], axis=0)
    return [np.mean(images, axis=0) for images in zip(*(r.probs for r in runs))]


def over_seeds(rows: pd.DataFrame, keys: tuple[str, ...], sd_keys: tuple[str, ...]) -> dict[str, Any]:
    """One model's per-seed rows summarised: the number of seeds, the mean of each of `keys` and the sd (ddof 1;
    None for a single seed) of each of `sd_keys`."""
    return {"seeds": len(rows), **{k: float(rows[k].mean()) for k in keys},
            **{f"{k}_sd": float(rows[k].std(ddof=1)) if len(rows) > 1 else None for k in sd_keys}}
