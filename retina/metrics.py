"""Segmentation metrics: confusion-matrix scores, ROC/PR, bootstrap intervals and paired tests; the 16-bit grid
probabilities are stored and ranked on.

Conventions for empty cases: where a score's denominator is zero because there is nothing to find and nothing was
found (e.g. F1 of an all-background image predicted all-background) the score is 1.0; where it is undefined
(sensitivity of an image with no vessel, AUC with one class) it is NaN.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

_CHUNK = 1 << 24  # pixels counted at a time: bounds the memory of ranking a billion pixels
PROB_SCALE = 65535  # the grid probabilities are stored (data/predictions: x 65535 as uint16; uint8 ties would move
#                     AUCs) and ranked on
SCORES = ("accuracy", "sensitivity", "specificity", "precision", "f1", "iou", "auc_roc", "auc_pr")


def confusion(pred: np.ndarray, truth: np.ndarray, region: np.ndarray | None = None) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of boolean arrays, optionally inside a boolean region."""
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    if region is not None:
        region = np.asarray(region, bool)
        pred, truth = pred[region], truth[region]
    tp = int(np.count_nonzero(pred & truth))
    fp = int(np.count_nonzero(pred & ~truth))
    fn = int(np.count_nonzero(~pred & truth))
    return tp, fp, fn, int(pred.size - tp - fp - fn)


def _ratio(num: float, den: float, empty: float) -> float:
    return num / den if den else empty


def threshold_scores(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    """Accuracy, sensitivity, specificity, precision, F1 (= Dice) and IoU from confusion counts."""
    nothing = tp + fp + fn == 0  # no vessel in truth or prediction: perfect agreement on the empty set
    return {
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn, math.nan),
        "sensitivity": _ratio(tp, tp + fn, math.nan),
        "specificity": _ratio(tn, tn + fp, math.nan),
        "precision": _ratio(tp, tp + fp, 1.0 if nothing else math.nan if fn == 0 else 0.0),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn, 1.0),
        "iou": _ratio(tp, tp + fp + fn, 1.0),
    }


def quantise(prob: np.ndarray) -> np.ndarray:
    """Probabilities in [0,1] as stored in data/predictions."""
    return np.round(prob * PROB_SCALE).astype(np.uint16)


def dequantise(stored: np.ndarray) -> np.ndarray:
    """Stored predictions back to float32 probabilities."""
    return stored.astype(np.float32) / PROB_SCALE


def _probabilities(prob: np.ndarray) -> np.ndarray:
    """Probabilities as a flat array; refuses values outside [0, 1] (they have no level on the grid)."""
    prob = np.asarray(prob).ravel()
    if prob.size and not (prob.min() >= 0 and prob.max() <= 1):  # NaN fails both
        raise ValueError("probabilities must lie in [0, 1]")
    return prob


def level_counts(prob: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many vessel and background pixels (truth) lie at each level of the 16-bit grid (quantise): two int64
    arrays of PROB_SCALE + 1 counts. Counts of several images add up to their pooled counts; counting instead of
    sorting makes pooled scores over hundreds of millions of pixels take seconds."""
    prob, truth = _probabilities(prob), np.asarray(truth, bool).ravel()
    positives = np.zeros(PROB_SCALE + 1, np.int64)
    negatives = np.zeros(PROB_SCALE + 1, np.int64)
    for start in range(0, prob.size, _CHUNK):
        level = quantise(prob[start:start + _CHUNK])
        hit = truth[start:start + _CHUNK]
        positives += np.bincount(level[hit], minlength=PROB_SCALE + 1)
        negatives += np.bincount(level[~hit], minlength=PROB_SCALE + 1)
    return positives, negatives


def _operating_points(positives: np.ndarray, negatives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives when thresholding at each used level of level_counts, highest first."""
    used = (positives + negatives)[::-1] > 0
    return np.cumsum(positives[::-1])[used], np.cumsum(negatives[::-1])[used]


def counted_ranking(positives: np.ndarray, negatives: np.ndarray) -> dict[str, float]:
    """AUC-ROC (trapezoids between operating points: ties count half) and AUC-PR as average precision (precision at
    each operating point times the recall it adds) from level_counts; NaN with one class."""
    if not positives.any() or not negatives.any():
        return {"auc_roc": math.nan, "auc_pr": math.nan}
    tps, fps = _operating_points(positives, negatives)
    tpr, fpr = np.r_[0, tps / tps[-1]], np.r_[0, fps / fps[-1]]
    return {"auc_roc": float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2),
            "auc_pr": float(np.sum(np.diff(tpr) * tps / (tps + fps)))}


def counted_scores(positives: np.ndarray, negatives: np.ndarray, threshold: float) -> dict[str, float]:
    """Every score of SCORES from level_counts, a pixel being vessel where its level lies above `threshold` on the
    grid (as `prob > threshold` but for probabilities within 1/65535 of it)."""
    above = np.arange(PROB_SCALE + 1) > threshold * PROB_SCALE
    tp, fp = int(positives[above].sum()), int(negatives[above].sum())
    fn, tn = int(positives.sum()) - tp, int(negatives.sum()) - fp
    return {**threshold_scores(tp, fp, fn, tn), **counted_ranking(positives, negatives)}


def ranking_scores(prob: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """AUC-ROC and AUC-PR (counted_ranking) of probabilities in [0, 1] against boolean truth, ranked on the 16-bit
    grid of stored predictions (differences below 1/65535 are ties; on probabilities already on the grid the result
    is that of sorting them); NaN with one class."""
    return counted_ranking(*level_counts(prob, truth))


def all_scores(prob: np.ndarray, truth: np.ndarray, threshold: float,
               region: np.ndarray | None = None) -> dict[str, float]:
    """Every score of SCORES for probabilities vs truth, optionally inside a region."""
    prob, truth = np.asarray(prob), np.asarray(truth, bool)
    if region is not None:
        region = np.asarray(region, bool)
        prob, truth = prob[region], truth[region]
    return {**threshold_scores(*confusion(prob > threshold, truth)), **ranking_scores(prob, truth)}


def curves(prob: np.ndarray, truth: np.ndarray, points: int = 200) -> dict[str, np.ndarray]:
    """ROC (fpr, tpr from (0, 0) to (1, 1)) and PR (recall, precision from (0, 1)) curves through every operating
    point, each thinned to about `points` points (the first and last kept)."""
    tps, fps = _operating_points(*level_counts(prob, truth))
    tpr, fpr = np.r_[0, tps / max(tps[-1], 1)], np.r_[0, fps / max(fps[-1], 1)]
    precision = np.r_[1, tps / (tps + fps)]
    keep = np.unique(np.linspace(0, len(tpr) - 1, min(len(tpr), points)).astype(int))
    return {"fpr": fpr[keep], "tpr": tpr[keep], "recall": tpr[keep], "precision": precision[keep]}


def bootstrap_ci(values: np.ndarray, resamples: int, seed: int, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (resampling the items, e.g. test images)."""
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def paired_comparison(a: pd.Series, b: pd.Series, resamples: int, seed: int) -> dict[str, float]:
    """Per-item comparison of b against a, paired by index (e.g. image id), never by row order.

    Pairs where either value is NaN are dropped before anything is computed, so the mean difference b-a, its
    bootstrap 95% interval, the number of items where b wins, n and the two-sided Wilcoxon signed-rank p-value all
    describe the same pairs. With no pair left every figure is NaN (n = 0).
    """
    pairs = pd.concat({"a": pd.Series(a, dtype=float), "b": pd.Series(b, dtype=float)}, axis=1, join="inner")
    if not (pairs.index.is_unique and len(pairs) == len(a) == len(b)):
        raise ValueError("paired comparison: the two sides must hold the same unique ids")
    pairs = pairs.dropna()
    diff = (pairs["b"] - pairs["a"]).to_numpy()
    if len(diff) == 0:
        return {"mean_diff": math.nan, "ci_low": math.nan, "ci_high": math.nan, "b_wins": 0, "n": 0,
                "p_wilcoxon": math.nan}
    lo, hi = bootstrap_ci(diff, resamples, seed)
    p = float(stats.wilcoxon(pairs["b"], pairs["a"]).pvalue) if np.any(diff != 0) else 1.0
    return {"mean_diff": float(diff.mean()), "ci_low": lo, "ci_high": hi, "b_wins": int((diff > 0).sum()),
            "n": int(len(diff)), "p_wilcoxon": p}
