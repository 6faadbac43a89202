"""Metrics against values computed by hand, including the empty and full edge cases."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from retina import metrics
from retina.metrics import (all_scores, bootstrap_ci, confusion, counted_scores, curves, dequantise, level_counts,
                            paired_comparison, quantise, ranking_scores, threshold_scores)

TRUTH = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], bool)
PROB = np.array([[0.9, 0.4, 0.6, 0.1], [0.8, 0.2, 0.3, 0.05]])


def test_confusion_and_scores_by_hand():
    # predicted (>0.5): (0,0) (0,2) (1,0); truth: (0,0) (0,1) (1,0) -> tp 2, fp 1, fn 1, tn 4
    assert confusion(PROB > 0.5, TRUTH) == (2, 1, 1, 4)
    s = all_scores(PROB, TRUTH, 0.5)
    assert s["accuracy"] == pytest.approx(6 / 8)
    assert s["sensitivity"] == pytest.approx(2 / 3) and s["specificity"] == pytest.approx(4 / 5)
    assert s["precision"] == pytest.approx(2 / 3) and s["f1"] == pytest.approx(2 / 3)
    assert s["iou"] == pytest.approx(2 / 4)
    # AUC by counting: positives {0.9, 0.4, 0.8} vs negatives {0.6, 0.1, 0.2, 0.3, 0.05}; 0.4 loses only to 0.6
    assert s["auc_roc"] == pytest.approx(14 / 15)


def test_region_restricts_the_pixels():
    region = np.array([[1, 1, 0, 0], [1, 1, 0, 0]], bool)
    assert confusion(PROB > 0.5, TRUTH, region) == (2, 0, 1, 1)


def test_all_background_predicted_empty_is_perfect_agreement():
    s = threshold_scores(*confusion(np.zeros(10, bool), np.zeros(10, bool)))
    assert s["f1"] == 1.0 and s["iou"] == 1.0 and s["accuracy"] == 1.0 and s["specificity"] == 1.0
    assert math.isnan(s["sensitivity"])
    assert all(math.isnan(v) for v in ranking_scores(np.random.rand(10), np.zeros(10, bool)).values())


def test_all_vessel_cases():
    truth = np.ones(10, bool)
    s = threshold_scores(*confusion(np.ones(10, bool), truth))
    assert s["f1"] == 1.0 and s["sensitivity"] == 1.0 and math.isnan(s["specificity"])
    missed = threshold_scores(*confusion(np.zeros(10, bool), truth))
    assert missed["f1"] == 0.0 and missed["sensitivity"] == 0.0 and missed["precision"] == 0.0


def test_perfect_and_inverted_ranking():
    truth = np.array([0, 0, 1, 1], bool)
    assert ranking_scores(np.array([0.1, 0.2, 0.8, 0.9]), truth) == {"auc_roc": 1.0, "auc_pr": 1.0}
    assert ranking_scores(np.array([0.9, 0.8, 0.2, 0.1]), truth)["auc_roc"] == 0.0


def _pairwise_auc(prob: np.ndarray, truth: np.ndarray) -> float:
    """AUC by definition: the share of (positive, negative) pairs ranked right, ties counting half."""
    pos, neg = prob[truth][:, None], prob[~truth][None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def _average_precision(prob: np.ndarray, truth: np.ndarray) -> float:
    """Average precision by definition: over each distinct threshold t (highest first), the precision of
    `prob >= t` times the recall it adds."""
    total, recall_before = 0.0, 0.0
    for t in np.unique(prob)[::-1]:
        pred = prob >= t
        recall = (pred & truth).sum() / truth.sum()
        total += (recall - recall_before) * (pred & truth).sum() / pred.sum()
        recall_before = recall
    return total


@pytest.mark.parametrize("kind", ["continuous", "quantised", "heavily tied"])
def test_ranking_scores_follow_their_definitions(kind):
    rng = np.random.default_rng(3)
    truth = rng.random(600) < 0.2
    prob = np.clip(truth * 0.25 + rng.random(600) * 0.75, 0, 1)
    prob = {"continuous": prob, "quantised": np.round(prob * 255) / 255, "heavily tied": np.round(prob * 4) / 4}[kind]
    got = ranking_scores(prob, truth)
    on_grid = dequantise(quantise(prob))  # what is ranked: the grid of stored predictions
    assert got["auc_roc"] == pytest.approx(_pairwise_auc(on_grid, truth), abs=1e-12)
    assert got["auc_pr"] == pytest.approx(_average_precision(on_grid, truth), abs=1e-12)
    assert got["auc_roc"] == pytest.approx(_pairwise_auc(prob, truth), abs=1e-4)  # the grid costs nothing visible


def test_ranking_counts_in_chunks_as_in_one_piece(monkeypatch):
    rng = np.random.default_rng(5)
    truth = rng.random(5000) < 0.2
    prob = np.clip(truth * 0.25 + rng.random(5000) * 0.75, 0, 1).astype(np.float32)
    whole = ranking_scores(prob, truth)
    monkeypatch.setattr(metrics, "_CHUNK", 777)
    assert ranking_scores(prob, truth) == whole
    assert whole["auc_roc"] == pytest.approx(_pairwise_auc(dequantise(quantise(prob)), truth), abs=1e-12)


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan])
def test_probabilities_off_the_unit_interval_are_refused(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ranking_scores(np.array([0.2, bad, 0.7]), np.array([0, 1, 1], bool))


def test_roc_curve_through_every_operating_point_has_the_auc_as_its_area():
    rng = np.random.default_rng(4)
    truth = rng.random(3000) < 0.15
    prob = np.round(np.clip(truth * 0.3 + rng.random(3000) * 0.7, 0, 1) * 100) / 100
    c = curves(prob, truth, points=10**6)
    assert np.trapezoid(c["tpr"], c["fpr"]) == pytest.approx(ranking_scores(prob, truth)["auc_roc"], abs=1e-12)
    assert (c["recall"][0], c["precision"][0]) == (0, 1) and c["recall"][-1] == 1
    assert c["precision"][-1] == pytest.approx(truth.mean())  # everything called vessel


def test_curves_run_from_corner_to_corner():
    rng = np.random.default_rng(0)
    truth = rng.random(5000) < 0.1
    c = curves(np.clip(truth * 0.3 + rng.random(5000) * 0.7, 0, 1), truth, points=50)
    assert c["fpr"][0] == 0 and c["tpr"][0] == 0 and c["fpr"][-1] == 1 and c["tpr"][-1] == 1 and len(c["fpr"]) <= 50
    assert np.all(np.diff(c["fpr"]) >= 0) and np.all(np.diff(c["tpr"]) >= 0)


def test_bootstrap_interval_has_its_stated_coverage():
    # the percentile interval of the mean of 20 normal values must cover the true mean ~95% of the time (and a
    # 60% interval ~60%): a wrong level or a wrong resampling would miss these bands
    rng = np.random.default_rng(1)
    for level, band in ((0.95, (0.90, 0.985)), (0.6, (0.50, 0.70))):
        hits = 0
        for trial in range(300):
            sample = rng.normal(0.8, 0.05, 20)
            lo, hi = bootstrap_ci(sample, 500, seed=trial, level=level)
            hits += lo < 0.8 < hi
        assert band[0] < hits / 300 < band[1], (level, hits / 300)


def test_bootstrap_interval_narrows_with_more_data_and_ignores_nan():
    rng = np.random.default_rng(1)
    small, large = rng.normal(0.8, 0.05, 20), rng.normal(0.8, 0.05, 2000)
    lo, hi = bootstrap_ci(small, 2000, seed=0)
    lo2, hi2 = bootstrap_ci(large, 2000, seed=0)
    assert hi2 - lo2 < (hi - lo) / 4
    assert bootstrap_ci(np.append(small, np.nan), 2000, seed=0) == (lo, hi)


def series(values) -> pd.Series:
    return pd.Series(values, index=pd.Index(range(len(values)), name="image"))


def test_paired_comparison_detects_a_consistent_gain_only():
    rng = np.random.default_rng(2)
    a = rng.normal(0.75, 0.03, 20)
    better = paired_comparison(series(a), series(a + 0.02 + rng.normal(0, 0.005, 20)), 1000, seed=0)
    assert better["mean_diff"] > 0 and better["b_wins"] == 20 and better["p_wilcoxon"] < 0.001
    noise = paired_comparison(series(a), series(a + rng.normal(0, 0.02, 20)), 1000, seed=0)
    assert noise["p_wilcoxon"] > 0.01 and noise["ci_low"] < 0 < noise["ci_high"]


def test_paired_comparison_pairs_by_id_not_by_row_order():
    a = pd.Series([0.5, 0.6, 0.7], index=[10, 11, 12])
    b = pd.Series([0.71, 0.61, 0.51], index=[12, 11, 10])  # the same images, listed in the other order
    c = paired_comparison(a, b, 200, seed=0)
    assert c["mean_diff"] == pytest.approx(0.01) and c["b_wins"] == 3
    with pytest.raises(ValueError, match="same unique ids"):
        paired_comparison(a, pd.Series([0.5, 0.6, 0.7], index=[10, 11, 13]), 200, seed=0)


def test_paired_comparison_drops_nan_pairs_everywhere():
    a, b = series([0.5, 0.6, np.nan, 0.7, 0.8]), series([0.6, np.nan, 0.9, 0.8, 0.9])
    c = paired_comparison(a, b, 500, seed=0)
    assert c["n"] == 3 and c["b_wins"] == 3 and c["mean_diff"] == pytest.approx(0.1)
    assert c["ci_low"] == pytest.approx(0.1) and c["ci_high"] == pytest.approx(0.1)
    empty = paired_comparison(series([np.nan]), series([0.5]), 100, seed=0)
    assert empty["n"] == 0 and math.isnan(empty["mean_diff"]) and math.isnan(empty["p_wilcoxon"])


def test_counted_scores_pool_images_as_their_concatenation():
    rng = np.random.default_rng(3)
    probs = [dequantise(quantise(rng.random(n))) for n in (500, 800)]
    truths = [rng.random(n) < 0.2 + 0.6 * p for n, p in zip((500, 800), probs)]
    counts = [level_counts(p, t) for p, t in zip(probs, truths)]
    pooled = counted_scores(counts[0][0] + counts[1][0], counts[0][1] + counts[1][1], 0.42)
    whole = all_scores(np.concatenate(probs), np.concatenate(truths), 0.42)
    assert pooled == pytest.approx(whole, nan_ok=True)
    assert 0.5 < pooled["auc_roc"] < 1 and 0 < pooled["f1"] < 1


def test_counted_scores_with_one_class_have_no_ranking():
    positives, negatives = level_counts(np.array([0.2, 0.9]), np.array([False, False]))
    scores = counted_scores(positives, negatives, 0.5)
    assert math.isnan(scores["auc_roc"]) and scores["specificity"] == 0.5 and scores["f1"] == 0.0
