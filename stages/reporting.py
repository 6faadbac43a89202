"""Gather the pipeline's outputs into reports/report.md: settings, metrics with intervals, comparisons, claims."""
from __future__ import annotations

import hashlib
import json
import math
import subprocess
from pathlib import Path

import pandas as pd
import yaml

from stages.claims import ALPHA, JUMPY, NEAR_ZERO, Claim, check_claims
from stages.config import Params
from stages.evaluation import morphology_errors
from stages.metrics import bootstrap_ci, paired_comparison
from stages.morphology import MEASURES

COMPARISONS = (("baseline", "silu256", "SiLU@256 vs baseline (ReLU@512)"),
               ("silu256", "silu256_se", "SE vs no SE (both SiLU@256)"))


def load_history(log_dir: Path) -> pd.DataFrame:
    """Per-epoch metrics of one training run from its dvclive logs: columns like 'train/loss', 'val/dice'."""
    columns = {}
    for tsv in sorted((log_dir / "plots" / "metrics").glob("*/*.tsv")):
        table = pd.read_csv(tsv, sep="\t")
        columns[f"{tsv.parent.name}/{tsv.stem}"] = table.set_index("step")[tsv.stem]
    return pd.DataFrame(columns).sort_index()


def _fmt(value: float, digits: int = 4) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def code_revision() -> str:
    """The git commit the pipeline ran from, marked when stages/ or params differ from it."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "stages", "params.yaml", "dvc.yaml"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return rev + (" with uncommitted changes to stages/params" if dirty else "")


def metrics_rows(evals: dict[str, dict], per_image: dict[str, pd.DataFrame], resamples: int,
                 seed: int) -> list[list[str]]:
    """One row per model: size, parameters, speed, pooled FOV scores, mean per-image Dice/AUC with 95% CIs."""
    rows = []
    for name, ev in evals.items():
        p, img = ev["pooled"], per_image[name]
        cells = [name, str(ev["input_size"]), f"{ev['parameters']:,}", f"{ev['inference_ms_per_image']:.0f}",
                 str(ev["best_epoch"])]
        for col in ("fov_f1", "fov_auc_roc"):
            lo, hi = bootstrap_ci(img[col].to_numpy(), resamples, seed)
            cells.append(f"{p[col]:.4f} ({img[col].mean():.4f} [{lo:.4f}, {hi:.4f}])")
        cells += [_fmt(p[k]) for k in ("fov_auc_pr", "fov_accuracy", "fov_sensitivity", "fov_specificity",
                                       "image_f1", "image_accuracy")]
        rows.append(cells)
    return rows


def comparison_rows(per_image: dict[str, pd.DataFrame], resamples: int, seed: int) -> tuple[list[list[str]], dict]:
    """Paired per-image comparisons of the study's model pairs, in F1 and AUC-ROC inside the FOV."""
    rows, results = [], {}
    for a, b, label in COMPARISONS:
        if a not in per_image or b not in per_image:
            continue
        for col in ("fov_f1", "fov_auc_roc"):
            c = paired_comparison(per_image[a][col].to_numpy(), per_image[b][col].to_numpy(), resamples, seed)
            results[(a, b, col)] = c
            rows.append([label, col, f"{c['mean_diff']:+.4f}", f"[{c['ci_low']:+.4f}, {c['ci_high']:+.4f}]",
                         f"{c['b_wins']}/{c['n']}", f"{c['p_wilcoxon']:.3g}"])
    return rows, results


def timing_rows(timing_dir: Path, train_root: Path, models: list[str]) -> list[list[str]]:
    """Wall time per stage from reports/timing/*.json and each training run's run.json."""
    rows = []
    for f in sorted(timing_dir.glob("*.json")):
        t = json.loads(f.read_text())
        rows.append([t["stage"], f"{t['seconds']:.1f}", ""])
    for name in models:
        run = train_root / name / "run.json"
        if run.is_file():
            r = json.loads(run.read_text())
            rows.append([f"train {name}", f"{r['train_seconds']:.1f}",
                         f"{r['epochs']} epochs, {r['seconds_per_epoch']:.1f} s/epoch on {r['device']} "
                         f"({'bf16' if r['bf16'] else 'fp32'}, {r['threads']} threads)"
                         + (f", resumed after epoch {r['resumed_after_epoch']}" if r["resumed_after_epoch"] else "")])
    return rows


def budget_rows(params: Params, evals: dict[str, dict], history: dict[str, pd.DataFrame],
                n_train: int) -> list[list[str]]:
    """What each model saw in training, and whether validation Dice was still rising at the end."""
    rows = []
    for name, ev in evals.items():
        spec, h = params.models[name], history[name]
        side = params.train.crop if params.train.crop and params.train.crop < spec.image_size else spec.image_size
        pixels = params.train.epochs * n_train * side * side
        dice = h["val/dice"].to_numpy() if "val/dice" in h else []
        quarter = max(len(dice) // 4, 1)
        gain = dice[-quarter:].mean() - dice[-2 * quarter:-quarter].mean() if len(dice) >= 2 else float("nan")
        rows.append([name, f"{spec.image_size}", f"{side}x{side}", str(params.train.epochs), f"{pixels / 1e6:.0f}",
                     _fmt(float(h["train/dice"].iloc[-1]) if len(h) else float("nan")),
                     _fmt(float(dice[-1]) if len(dice) else float("nan")), f"{gain:+.4f}"])
    return rows


def claims_table(claims: list[Claim]) -> str:
    return _table(["claim of the study", "measured in this run", "verdict"],
                  [[c.claim, c.measured, f"**{c.verdict}**"] for c in claims])


def build_report(params: Params, train_root: Path, eval_root: Path, figures: dict[str, str],
                 manifest: Path, timing_dir: Path, n_train: int) -> tuple[str, list[Claim]]:
    """The whole report as Markdown, and the claims it checked."""
    models = [m for m in params.models if (eval_root / m / "metrics.json").is_file()]
    evals = {m: json.loads((eval_root / m / "metrics.json").read_text()) for m in models}
    per_image = {m: pd.read_csv(eval_root / m / "per_image.csv") for m in models}
    history = {m: load_history(train_root / m) for m in models}
    n_test = len(next(iter(per_image.values()))) if per_image else 0
    cmp_rows, cmp = comparison_rows(per_image, params.bootstrap, params.seed)
    claims = check_claims(history, cmp.get(("silu256", "silu256_se", "fov_f1")))
    truth_morph = pd.read_csv(eval_root / "truth_morphology.csv")
    manifest_sum = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else "missing"

    out = ["# retina-unet: the study, reproduced", "",
           "Generated by `dvc repro` (stage `report`) from the pipeline's outputs; do not edit by hand.", "",
           "## Claims of the study", "",
           f"Thresholds are ours (the study gives none): *jumpy* means a mean absolute epoch-to-epoch change of "
           f"validation accuracy above {JUMPY} over the second half of training, *steady* at most that; "
           f"*near 0* means a final training loss of at most {NEAR_ZERO} (our loss is `{params.train.loss}`); "
           f"*better* means a higher test F1 inside the field of view with a paired Wilcoxon p < {ALPHA}. "
           "Accuracy is pixel accuracy over whole images, as Keras reports it.", "",
           claims_table(claims), "",
           "## Test metrics", "",
           f"{n_test} test images (the DRIVE test set, resized to 512x512), threshold {params.threshold}. Every "
           "model is scored at 512x512 against the binarised 512x512 masks (probabilities of 256 models are resized "
           "bilinearly). Pooled scores count every pixel of the 20 images together; in brackets the mean of the "
           f"per-image scores with a 95% bootstrap interval over images ({params.bootstrap} resamples). With "
           f"{n_test} images these intervals are wide: differences inside them are not evidence.", "",
           _table(["model", "input", "parameters", "ms/image", "best epoch", "F1 (FOV)", "AUC-ROC (FOV)",
                   "AUC-PR", "accuracy", "sensitivity", "specificity", "F1 (image)", "accuracy (image)"],
                  metrics_rows(evals, per_image, params.bootstrap, params.seed)), "",
           "## Paired comparisons (per test image)", "",
           _table(["comparison", "score", "mean difference (2nd - 1st)", "95% CI", "2nd better on", "Wilcoxon p"],
                  cmp_rows), "",
           "The study changed the activation and the resolution together; the experiments that separate the two "
           "(`dvc exp run -S activation=silu`, `dvc exp run -S image_size=256`) are summarised in "
           "[experiments.md](experiments.md) by `python -m stages.experiments`.", "",
           "## Figures", ""]
    out += [f"![{title}]({path})" for title, path in figures.items()]
    out += ["", "## Vessel measurements: predicted vs annotated", "",
            "Mean absolute relative error per test image of each measurement of the predicted vessel tree against "
            "the annotator's (inside the field of view; lengths and calibres in pixels at 512x512). The annotated "
            "means: " + ", ".join(f"{c} {truth_morph[c].mean():.4g}" for c in truth_morph.columns if c != "image"),
            ""]
    morph = {m: morphology_errors(pd.read_csv(eval_root / m / "morphology.csv"), truth_morph).set_index("measure")
             for m in models}
    out += [_table(["measure", *models],
                   [[meas, *(f"{morph[m].loc[meas, 'abs_rel_error_mean'] * 100:.1f}% "
                             f"({morph[m].loc[meas, 'rel_error_mean'] * 100:+.1f}%)" for m in models)]
                    for meas in MEASURES]),
            "", "In brackets the mean signed error: positive means the model over-estimates.", ""]
    out += ["## Training budget", "",
            "What each model saw in training (one crop or image per training image per epoch) and how its validation "
            "Dice moved over the last quarter of epochs compared with the quarter before: a gain well above zero means "
            "more epochs would still help.", "",
            _table(["model", "input", "training patch", "epochs", "megapixels seen", "final train Dice",
                    "final val Dice", "val Dice gain, last quarter"], budget_rows(params, evals, history, n_train)),
            ""]
    out += ["## Settings", "",
            f"- Code revision: `{code_revision()}`",
            f"- Data manifest (data/raw/manifest.sha256) sha256: `{manifest_sum}`", "",
            _table(["stage", "wall time (s)", "notes"], timing_rows(timing_dir, train_root, models)), "",
            "Parameters (params.yaml):", "", "```yaml", yaml.safe_dump(params.raw, sort_keys=False).strip(), "```",
            ""]
    return "\n".join(out), claims

