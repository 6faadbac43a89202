"""The claims table turns its verdict when the measured numbers cross the claim."""
from __future__ import annotations

import numpy as np
import pytest
import pandas as pd

from stages.claims import FAILS, HOLDS, UNMEASURABLE, check_claims, jumpiness


def history(train_acc: float, val_acc: np.ndarray, loss: float) -> pd.DataFrame:
    n = len(val_acc)
    return pd.DataFrame({"train/accuracy": np.full(n, train_acc), "val/accuracy": val_acc,
                         "train/loss": np.full(n, loss)})


STEADY = np.full(10, 0.95)
JUMPY = np.array([0.9, 0.95] * 5)


def verdicts(base_acc, base_val, plain_acc, plain_val, se_loss, se_gain, p=0.01):
    comparison = {"mean_diff": se_gain, "ci_low": se_gain - 0.01, "ci_high": se_gain + 0.01, "b_wins": 15, "n": 20,
                  "p_wilcoxon": p}
    claims = check_claims({"baseline": history(base_acc, base_val, 0.3),
                           "silu256": history(plain_acc, plain_val, 0.3),
                           "silu256_se": history(0.9, STEADY, se_loss)}, comparison)
    return [c.verdict for c in claims]


def test_all_claims_hold_when_numbers_match_the_study():
    assert verdicts(0.55, JUMPY, 0.9, STEADY, 0.01, 0.02) == [HOLDS] * 6


def test_each_claim_turns_when_its_number_crosses():
    assert verdicts(0.65, STEADY, 0.85, JUMPY, 0.2, -0.02) == [FAILS] * 6
    assert verdicts(0.55, JUMPY, 0.9, STEADY, 0.01, 0.02, p=0.2)[5] == FAILS  # better, but not significantly


def test_jumpiness_uses_second_half():
    assert jumpiness(np.array([0.1, 0.9, 0.1, 0.9, 0.5, 0.5, 0.5, 0.5])) == 0.0
    assert jumpiness(JUMPY) == pytest.approx(0.05)


def test_missing_model_is_not_measurable():
    claims = check_claims({}, None)
    assert all(c.verdict == UNMEASURABLE for c in claims)
