"""The study's claims, each judged from every training seed with one stated rule.

A claim's *effect* is signed so that a positive value supports it (e.g. 0.6 minus the final train accuracy for
"train accuracy below 0.6"). The verdict is one of:

- holds: every seed's effect is positive and the pooled test is significant in the same direction;
- contradicted: every seed's effect is negative and the pooled test is significant in that direction;
- not shown: anything else (the seeds disagree, or the pooled effect is inside the noise);
- not measurable: an input is missing or not a finite number (no such model, too few epochs, NaN).

The pooled test of a threshold claim is the 95% t-interval of the mean effect over seeds (which needs at least two
seeds); that of a comparison between models is the paired test over test images of their seed-averaged
probabilities: Wilcoxon p < ALPHA and a 95% bootstrap interval of the mean difference that excludes 0.
The study gives no number for "jumpy", "steady" or "near 0"; the thresholds below are ours, stated in the report.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

HOLDS, CONTRADICTED, NOT_SHOWN, NOT_MEASURABLE = "holds", "contradicted", "not shown", "not measurable"
JUMPY = 0.005  # mean absolute change of validation accuracy between validations, over the second half of training
NEAR_ZERO = 0.05  # final training binary cross-entropy at or below this counts as "near 0"
ALPHA = 0.05  # significance level of the pooled tests
RULE = ("*holds* / *contradicted*: every seed shows the effect in the same direction and the pooled test is "
        f"significant in that direction (threshold claims: the 95% t-interval of the seed mean excludes the "
        f"threshold, which needs two seeds or more; comparisons: paired Wilcoxon p < {ALPHA} over test images on the "
        "seed-averaged probabilities, with a 95% bootstrap interval of the mean difference that excludes 0). "
        "*not shown*: the seeds disagree or the pooled effect is inside the noise. *not measurable*: an input is "
        "missing or not a number.")


@dataclass(frozen=True)
class Claim:
    """One claim of the study, what was measured, and the verdict."""

    claim: str
    measured: str
    verdict: str


def _finite(values: Sequence[float]) -> bool:
    return len(values) > 0 and all(v is not None and math.isfinite(v) for v in values)


def verdict(effects: Sequence[float], pooled_effect: float, significant: bool) -> str:
    """The three-valued verdict (plus not measurable) from per-seed effects and the pooled test."""
    if not _finite(effects) or not _finite([pooled_effect]):
        return NOT_MEASURABLE
    if significant and pooled_effect > 0 and all(e > 0 for e in effects):
        return HOLDS
    if significant and pooled_effect < 0 and all(e < 0 for e in effects):
        return CONTRADICTED
    return NOT_SHOWN


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean of per-seed values and its t-interval; NaN bounds with fewer than two values."""
    v = np.asarray(values, float)
    if len(v) == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if len(v) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return mean, mean - half, mean + half


def threshold_claim(text: str, values: Sequence[float], threshold: float, below: bool, what: str) -> Claim:
    """A claim that a per-seed quantity is below (or above) a threshold."""
    if not _finite(values):
        return Claim(text, f"{what}: no data (no such model, too few epochs, or not a number)", NOT_MEASURABLE)
    effects = [threshold - v if below else v - threshold for v in values]
    mean, lo, hi = mean_interval(values)
    significant = math.isfinite(lo) and (hi < threshold or lo > threshold)
    spread = f" [95% CI {lo:.4f}, {hi:.4f}]" if math.isfinite(lo) else " (one seed: no interval)"
    measured = (f"{what} {mean:.4f}{spread}; per seed {', '.join(f'{v:.4f}' for v in values)} "
                f"({'<' if below else '>'} {threshold:g} claimed)")
    return Claim(text, measured, verdict(effects, threshold - mean if below else mean - threshold, significant))


def comparison_claim(text: str, per_seed_diffs: Sequence[float], pooled: dict[str, float] | None) -> Claim:
    """A claim that a model scores higher than another: per-seed mean differences and the pooled paired test."""
    if pooled is None or not _finite(per_seed_diffs) or not pooled.get("n"):
        return Claim(text, "no data (a model or its per-image scores are missing)", NOT_MEASURABLE)
    c = pooled
    significant = c["p_wilcoxon"] < ALPHA and (c["ci_low"] > 0 or c["ci_high"] < 0)
    measured = (f"test F1 (FOV) difference {c['mean_diff']:+.4f} [95% CI {c['ci_low']:+.4f}, {c['ci_high']:+.4f}], "
                f"better on {c['b_wins']}/{c['n']} images, Wilcoxon p = {c['p_wilcoxon']:.3g} (seed-averaged); "
                f"per seed {', '.join(f'{d:+.4f}' for d in per_seed_diffs)}")
    return Claim(text, measured, verdict(per_seed_diffs, c["mean_diff"], significant))


def jumpiness(values: pd.Series | np.ndarray) -> float:
    """Mean absolute change between consecutive validations over the second half of training (NaN: too few)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    half = values[len(values) // 2:]
    return float(np.abs(np.diff(half)).mean()) if len(half) > 1 else math.nan


def final(history: pd.DataFrame | None, column: str) -> float:
    """The last logged value of a training-history column; NaN when there is none."""
    if history is None or column not in history:
        return math.nan
    values = history[column].dropna()
    return float(values.iloc[-1]) if len(values) else math.nan


def check_claims(histories: dict[str, list[pd.DataFrame]], se_vs_plain: tuple[list[float], dict] | None,
                 baseline: str = "baseline", plain: str = "silu256", se: str = "silu256_se") -> list[Claim]:
    """Verdicts for the study's claims from each model's per-seed training histories and the SE vs no-SE
    comparison (per-seed mean F1 differences, pooled paired test)."""
    def per_seed(model: str, measure) -> list[float]:
        return [measure(h) for h in histories.get(model, [])]

    return [
        threshold_claim(f"{baseline} (ReLU, 512): train accuracy below 0.6",
                        per_seed(baseline, lambda h: final(h, "train/accuracy")), 0.6, True, "final train accuracy"),
        threshold_claim(f"{baseline}: validation accuracy is jumpy",
                        per_seed(baseline, lambda h: jumpiness(h.get("val/accuracy", []))), JUMPY, False,
                        "mean abs. change between validations, 2nd half"),
        threshold_claim(f"{plain} (SiLU, 256): train accuracy above 0.86",
                        per_seed(plain, lambda h: final(h, "train/accuracy")), 0.86, False, "final train accuracy"),
        threshold_claim(f"{plain}: validation accuracy is steady",
                        per_seed(plain, lambda h: jumpiness(h.get("val/accuracy", []))), JUMPY, True,
                        "mean abs. change between validations, 2nd half"),
        threshold_claim(f"{se} (SiLU, 256, SE): loss near 0 (binary cross-entropy, the study's loss)",
                        per_seed(se, lambda h: final(h, "train/bce")), NEAR_ZERO, True, "final train BCE"),
        comparison_claim(f"{se}: predictions better than {plain}", *(se_vs_plain or ([], None))),
    ]
