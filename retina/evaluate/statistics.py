"""The report's numbers: spread over seeds, paired comparisons, training budget and convergence, morphology agreement.

Every function takes gathered results (retina.evaluate.results) and returns plain tables; formatting is retina.report.report's job.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from retina.config import Params
from retina.metrics import bootstrap_ci, paired_comparison
from retina.measure.morphology import MEASURES
from retina.evaluate.results import Results
from retina.summary import mean_sd
from retina.train.augment import patch_side

CONVERGED = 0.003  # validation Dice: the doubling rule's largest gain for a converged model (retina.report.convergence)
                   # and the last-quarter diagnostic's for a run that has stopped improving
COMPARISONS = (("baseline", "silu256", "SiLU@256 vs baseline (ReLU@512)"),
               ("silu256", "silu256_se", "SE vs no SE (both SiLU@256)"),
               ("baseline", "camera_robust", "camera-robust input and augmentation vs baseline (both ReLU@512)"))
POOLED = ("fov_f1", "fov_auc_roc", "fov_auc_pr", "fov_accuracy", "fov_sensitivity", "fov_specificity", "image_f1",
          "image_accuracy")


def score_table(res: Results, resamples: int, seed: int) -> pd.DataFrame:
    """Per model: each pooled test score as mean and sd over seeds, facts about the model, and the per-image F1 of
    the seed-averaged probabilities with its 95% bootstrap interval."""
    rows = []
    for model in res.models:
        group = res.per_seed[res.per_seed["model"] == model] if res.per_seed is not None else pd.DataFrame()
        row: dict = {"model": model, "seeds": len(group)}
        for key in POOLED:
            row[key], row[f"{key}_sd"] = mean_sd(group[key]) if key in group else (math.nan, math.nan)
        for key in ("input_size", "parameters"):
            row[key] = int(group[key].iloc[0]) if key in group and len(group) else math.nan
        row["ms_per_image"] = mean_sd(group["inference_ms_per_image"])[0] if len(group) else math.nan
        row["best_epochs"] = [int(e) for e in group["best_epoch"]] if len(group) else []
        ens = res.ensemble.get(model)
        f1 = ens["fov_f1"] if ens is not None else pd.Series(dtype=float)
        row["ensemble_f1"] = float(f1.mean()) if len(f1) else math.nan
        row["ensemble_f1_ci"] = bootstrap_ci(f1.to_numpy(), resamples, seed)
        rows.append(row)
    return pd.DataFrame(rows)


def seed_differences(first: list[pd.DataFrame], second: list[pd.DataFrame], score: str) -> list[float]:
    """Seed k of `second` minus seed k of `first`: the mean difference of one per-image score, paired by image id
    (the frames' index), one value per seed."""
    return [float(np.nanmean(b[score] - a[score])) for a, b in zip(first, second, strict=True)]


def compare(res: Results, a: str, b: str, score: str, resamples: int, seed: int) -> tuple[list[float], dict | None]:
    """b against a on one per-image score: the mean difference within each seed (:func:`seed_differences`), and the
    pooled paired test on the seed-averaged probabilities. (None for a missing side.)"""
    both = [s for s in res.seeds if (a, s) in res.per_image and (b, s) in res.per_image]
    per_seed = seed_differences([res.per_image[(a, s)] for s in both], [res.per_image[(b, s)] for s in both], score)
    if a not in res.ensemble or b not in res.ensemble:
        return per_seed, None
    return per_seed, paired_comparison(res.ensemble[a][score], res.ensemble[b][score], resamples, seed)


def comparison_table(res: Results, resamples: int, seed: int) -> list[dict]:
    """The study's model pairs compared in F1 and AUC-ROC inside the FOV (see :func:`compare`)."""
    rows = []
    for a, b, label in COMPARISONS:
        for score in ("fov_f1", "fov_auc_roc"):
            per_seed, pooled = compare(res, a, b, score, resamples, seed)
            if pooled is not None:
                rows.append({"label": label, "score": score, "per_seed": per_seed, **pooled})
    return rows


def last_quarter_gain(history: pd.DataFrame) -> float:
    """Mean validation Dice over the last quarter of validations minus the mean over the quarter before (NaN with
    fewer than two validations). Well above zero: more epochs would still help."""
    dice = history["val/dice"].dropna().to_numpy() if "val/dice" in history else np.array([])
    if len(dice) < 2:
        return math.nan
    quarter = max(len(dice) // 4, 1)
    return float(dice[-quarter:].mean() - dice[-2 * quarter:-quarter].mean())


def training_budget(res: Results, params: Params, n_train: int) -> pd.DataFrame:
    """Per model: what it saw in training, its training time, and its validation Dice's last-quarter gain."""
    rows = []
    for model in res.models:
        spec, t = params.models[model], params.train
        side = patch_side(t.crop, spec.image_size)
        gains = [last_quarter_gain(h) for h in res.model_histories(model)]
        runs = [res.runs[(model, s)] for s in res.seeds if (model, s) in res.runs]
        final_val = [float(h["val/dice"].dropna().iloc[-1]) for h in res.model_histories(model)
                     if "val/dice" in h and h["val/dice"].notna().any()]
        rows.append({
            "model": model, "input": spec.image_size, "patch": side, "epochs": params.epochs_of(model),
            "megapixels": params.epochs_of(model) * n_train * side * side / 1e6,
            "final_val_dice": mean_sd(final_val)[0], "gain_mean": mean_sd(gains)[0],
            "gain_max": max(gains) if gains and all(math.isfinite(g) for g in gains) else math.nan,
            "train_seconds": mean_sd([r["train_seconds"] for r in runs])[0],
            "machines": sorted({r.get("machine", r.get("device", "?")) for r in runs}),
        })
    return pd.DataFrame(rows)


def ceiling_table(res: Results, resamples: int, seed: int) -> list[dict]:
    """Per down-sized input size: mean per-image F1 (FOV) of the perfect mask at that size, scored at 512."""
    if res.ceiling is None:
        return []
    return [{"size": int(size), "f1": float(g["fov_f1"].mean()), "ci": bootstrap_ci(g["fov_f1"].to_numpy(), resamples,
                                                                                    seed)}
            for size, g in res.ceiling.groupby("size")]


def bland_altman(measured: pd.Series, reference: pd.Series) -> dict[str, float]:
    """Agreement of paired values (paired by index, pairs with a NaN dropped): bias (mean difference measured -
    reference), 95% limits of agreement (bias -+ 1.96 sd of the differences), Pearson r and the number of pairs;
    NaN where fewer than 3 pairs (r also where either side is constant)."""
    pairs = pd.concat([measured.rename("m"), reference.rename("r")], axis=1, join="inner").astype(float).dropna()
    n = len(pairs)
    if n < 3:
        return {"bias": math.nan, "lower": math.nan, "upper": math.nan, "r": math.nan, "n": n}
    diff = pairs["m"] - pairs["r"]
    bias, sd = float(diff.mean()), float(diff.std(ddof=1))
    constant = pairs["m"].nunique() < 2 or pairs["r"].nunique() < 2
    return {"bias": bias, "lower": bias - 1.96 * sd, "upper": bias + 1.96 * sd,
            "r": math.nan if constant else float(pairs["m"].corr(pairs["r"])), "n": n}


def agreement(measured: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Bland-Altman agreement of every vessel measure (rows) of one set of masks with the reference annotation."""
    return pd.DataFrame([{"measure": m, **bland_altman(measured[m], reference[m])} for m in MEASURES]
                        ).set_index("measure")


def morphology_table(res: Results) -> dict[str, pd.DataFrame]:
    """Per model: agreement of its measures with the annotator, each statistic averaged over seeds (bias_sd: the
    bias's sd over seeds); and, when evaluated, DRIVE's second annotator under the key 'annotator 2'."""
    if res.truth_morphology is None:
        return {}
    out = {}
    for model in res.models:
        tables = [agreement(res.morphology[(model, s)], res.truth_morphology)
                  for s in res.seeds if (model, s) in res.morphology]
        if tables:
            out[model] = sum(tables) / len(tables)
            out[model]["bias_sd"] = pd.concat([t["bias"] for t in tables], axis=1).std(axis=1, ddof=1)
    if res.annotator2_morphology is not None:
        out["annotator 2"] = agreement(res.annotator2_morphology, res.truth_morphology).assign(bias_sd=math.nan)
    return out
