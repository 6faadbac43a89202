"""The study's claims, each checked against what this run measured.

The study gives no number for "jumpy", "steady" or "near 0"; the thresholds below are ours, stated in the report.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

HOLDS, FAILS, UNMEASURABLE = "holds", "does not hold", "not measurable"
JUMPY = 0.005  # mean absolute epoch-to-epoch change of validation accuracy over the second half of training
NEAR_ZERO = 0.05  # final training loss at or below this counts as "near 0"
ALPHA = 0.05  # significance level of the paired test for "better"


@dataclass(frozen=True)
class Claim:
    """One claim of the study, what this run measured, and the verdict."""

    claim: str
    measured: str
    verdict: str


def jumpiness(values: pd.Series | np.ndarray) -> float:
    """Mean absolute change between consecutive epochs over the second half of training."""
    values = np.asarray(values, float)
    half = values[len(values) // 2:]
    return float(np.abs(np.diff(half)).mean()) if len(half) > 1 else float("nan")


def _verdict(condition: bool | None) -> str:
    return UNMEASURABLE if condition is None else HOLDS if condition else FAILS


def check_claims(history: dict[str, pd.DataFrame], se_vs_plain: dict[str, float] | None,
                 baseline: str = "baseline", plain: str = "silu256", se: str = "silu256_se") -> list[Claim]:
    """Verdicts for the study's claims from training histories and the paired SE vs no-SE test comparison."""
    claims = []

    def final(model: str, column: str) -> float | None:
        h = history.get(model)
        return None if h is None or h.empty else float(h[column].iloc[-1])

    def add(text: str, value: float | None, fmt: str, test: Callable[[float], bool]) -> None:
        if value is None or np.isnan(value):
            claims.append(Claim(text, "no data (too few epochs or no such model)", UNMEASURABLE))
        else:
            claims.append(Claim(text, fmt.format(value), _verdict(bool(test(value)))))

    add(f"{baseline} (ReLU, 512): train accuracy below 0.6", final(baseline, "train/accuracy"),
        "final train accuracy {:.4f}", lambda v: v < 0.6)
    jb = jumpiness(history[baseline]["val/accuracy"]) if baseline in history else None
    add(f"{baseline}: validation accuracy is jumpy", jb,
        "mean abs. change per epoch, 2nd half: {:.4f} (jumpy if > %g)" % JUMPY, lambda v: v > JUMPY)
    add(f"{plain} (SiLU, 256): train accuracy above 0.86", final(plain, "train/accuracy"),
        "final train accuracy {:.4f}", lambda v: v > 0.86)
    jp = jumpiness(history[plain]["val/accuracy"]) if plain in history else None
    add(f"{plain}: validation accuracy is steady", jp,
        "mean abs. change per epoch, 2nd half: {:.4f} (steady if <= %g)" % JUMPY, lambda v: v <= JUMPY)
    add(f"{se} (SiLU, 256, SE): loss near 0", final(se, "train/loss"),
        "final train loss {:.4f} (near 0 if <= %g)" % NEAR_ZERO, lambda v: v <= NEAR_ZERO)
    if se_vs_plain is None:
        claims.append(Claim(f"{se}: predictions better than {plain}", "no data", UNMEASURABLE))
    else:
        c = se_vs_plain
        claims.append(Claim(
            f"{se}: predictions better than {plain}",
            f"test F1 (FOV) difference {c['mean_diff']:+.4f} [95% CI {c['ci_low']:+.4f}, {c['ci_high']:+.4f}], "
            f"better on {c['b_wins']}/{c['n']} images, Wilcoxon p = {c['p_wilcoxon']:.3g}",
            _verdict(c["mean_diff"] > 0 and c["p_wilcoxon"] < ALPHA)))
    return claims
