"""The verdict rule: holds / contradicted / not shown / not measurable, each branch driven by constructed inputs."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from retina.evaluate.claims import (CONTRADICTED, HOLDS, NOT_MEASURABLE, NOT_SHOWN, check_claims, comparison_claim,
                           jumpiness, mean_interval, threshold_claim, verdict)


def history(train_acc: float, val_acc: np.ndarray, bce: float) -> pd.DataFrame:
    n = len(val_acc)
    return pd.DataFrame({"train/accuracy": np.full(n, train_acc), "val/accuracy": val_acc,
                         "train/loss": np.full(n, bce + 0.3), "train/bce": np.full(n, bce)})


STEADY = np.full(10, 0.95)
JUMPY = np.array([0.9, 0.95] * 5)


def pooled(diff: float, p: float = 0.01, half: float = 0.01) -> dict:
    return {"mean_diff": diff, "ci_low": diff - half, "ci_high": diff + half, "b_wins": 15, "n": 20, "p_wilcoxon": p}


def verdicts(base_acc, base_val, plain_acc, plain_val, se_bce, se_gain, p=0.01, seeds=3, spread=0.002):
    def runs(acc, val, bce):
        return [history(acc + spread * (k - 1), val + spread * (k - 1) * 0, bce + spread * (k - 1))
                for k in range(seeds)]
    claims = check_claims({"baseline": runs(base_acc, base_val, 0.3), "silu256": runs(plain_acc, plain_val, 0.3),
                           "silu256_se": runs(0.9, STEADY, se_bce)},
                          ([se_gain] * seeds, pooled(se_gain, p)))
    return [c.verdict for c in claims]


def test_rule_branches():
    assert verdict([0.1, 0.2, 0.05], 0.12, True) == HOLDS
    assert verdict([-0.1, -0.2], -0.15, True) == CONTRADICTED
    assert verdict([0.1, -0.01, 0.2], 0.1, True) == NOT_SHOWN  # one seed disagrees
    assert verdict([0.1, 0.2], 0.15, False) == NOT_SHOWN  # pooled test not significant
    assert verdict([0.1, 0.2], -0.15, True) == NOT_SHOWN  # pooled effect against every seed
    assert verdict([0.1, math.nan], 0.1, True) == NOT_MEASURABLE
    assert verdict([], 0.1, True) == NOT_MEASURABLE
    assert verdict([0.1], math.nan, True) == NOT_MEASURABLE


def test_all_claims_hold_when_numbers_match_the_study():
    assert verdicts(0.55, JUMPY, 0.9, STEADY, 0.01, 0.02) == [HOLDS] * 6


def test_every_claim_is_contradicted_when_numbers_are_clearly_the_other_way():
    assert verdicts(0.95, STEADY, 0.7, JUMPY, 0.3, -0.02) == [CONTRADICTED] * 6


def test_inside_the_noise_is_not_shown():
    # seed spread of 0.05 around 0.59: the interval of the mean crosses 0.6
    assert verdicts(0.59, JUMPY, 0.9, STEADY, 0.01, 0.02, spread=0.05)[0] == NOT_SHOWN
    assert verdicts(0.55, JUMPY, 0.9, STEADY, 0.01, 0.02, p=0.2)[5] == NOT_SHOWN  # better, not significantly


def test_one_seed_cannot_show_a_threshold_claim():
    claim = threshold_claim("acc below 0.6", [0.2], 0.6, True, "final train accuracy")
    assert claim.verdict == NOT_SHOWN and "one seed" in claim.measured


def test_threshold_claim_reads_the_interval_of_the_mean():
    mean, lo, hi = mean_interval([0.5, 0.52, 0.54])
    assert mean == pytest.approx(0.52) and lo < 0.5 and hi > 0.54  # t-interval with 2 degrees of freedom is wide
    assert threshold_claim("x", [0.5, 0.52, 0.54], 0.6, True, "v").verdict == HOLDS
    assert threshold_claim("x", [0.5, 0.52, 0.54], 0.53, True, "v").verdict == NOT_SHOWN


def test_missing_model_and_nan_inputs_are_not_measurable():
    assert all(c.verdict == NOT_MEASURABLE for c in check_claims({}, None))
    nan_history = [history(math.nan, STEADY, 0.3)]
    assert check_claims({"baseline": nan_history}, None)[0].verdict == NOT_MEASURABLE
    assert comparison_claim("x", [0.1], {**pooled(0.1), "n": 0}).verdict == NOT_MEASURABLE
    assert comparison_claim("x", [math.nan], pooled(0.1)).verdict == NOT_MEASURABLE


def test_empty_history_is_not_measurable_not_a_crash():
    claims = check_claims({"baseline": [pd.DataFrame()], "silu256": [pd.DataFrame()]}, None)
    assert [c.verdict for c in claims] == [NOT_MEASURABLE] * 6


def test_jumpiness_uses_second_half_and_skips_epochs_without_validation():
    assert jumpiness(np.array([0.1, 0.9, 0.1, 0.9, 0.5, 0.5, 0.5, 0.5])) == 0.0
    assert jumpiness(JUMPY) == pytest.approx(0.05)
    assert jumpiness(np.array([np.nan, 0.9, np.nan, 0.95, np.nan, 0.9, np.nan, 0.95])) == pytest.approx(0.05)
    assert math.isnan(jumpiness(np.array([0.9])))
