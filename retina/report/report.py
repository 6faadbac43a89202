"""Format the report (reports/report.md) from gathered results and their statistics: tables and prose only."""
from __future__ import annotations

import math

import pandas as pd
import yaml

from retina.evaluate.claims import JUMPY, NEAR_ZERO, RULE, Claim, check_claims
from retina.config import Params
from retina.data.drive import ANNOTATOR2
from retina.measure.morphology import MEASURES, UNITS
from retina.train.optimisation import describe_recipe
from retina.report.convergence import Doubling, doubling_by_model
from retina.report.provenance import Provenance, provenance_summary, file_list
from retina.summary import format_pm, markdown_table
from retina.evaluate.results import Results
from retina.evaluate.statistics import CONVERGED, training_budget, ceiling_table, compare, comparison_table, morphology_table, \
    score_table


def _fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _ci(ci: tuple[float, float], sign: str = "") -> str:
    return f"[{ci[0]:{sign}.4f}, {ci[1]:{sign}.4f}]" if not math.isnan(ci[0]) else "[n/a]"


def claims_section(claims: list[Claim], loss: str) -> list[str]:
    return ["## Claims of the study", "",
            f"Thresholds are ours (the study gives none): *jumpy* means a mean absolute change of validation accuracy "
            f"between validations above {JUMPY} over the second half of training, *steady* below it; *near 0* means "
            f"a final training binary cross-entropy (the study's Keras loss; ours is `{loss}`, BCE is logged "
            f"separately) below {NEAR_ZERO}. Accuracy is pixel accuracy over whole images, as Keras reports it.", "",
            f"Verdict rule: {RULE}", "",
            markdown_table(["claim of the study", "measured", "verdict"], [[c.claim, c.measured, f"**{c.verdict}**"]
                                                                  for c in claims]), ""]


def _test_images(res: Results) -> int:
    """How many test images the runs were scored on (the study's: 20)."""
    return max((len(df) for df in res.per_image.values()), default=0)


def metrics_section(params: Params, res: Results, scores: pd.DataFrame) -> list[str]:
    ceiling = {c["size"]: c for c in ceiling_table(res, params.bootstrap, params.bootstrap_seed)}
    n_seeds = len(params.training_seeds)
    rows = []
    for _, r in scores.iterrows():
        size = r["input_size"]
        limit = ceiling.get(size)
        rows.append([r["model"], str(size), f"{r['parameters']:,}", f"{r['ms_per_image']:.0f}",
                     ", ".join(map(str, r["best_epochs"])),
                     format_pm(r["fov_f1"], r["fov_f1_sd"]), format_pm(r["fov_auc_roc"], r["fov_auc_roc_sd"]),
                     format_pm(r["fov_auc_pr"], r["fov_auc_pr_sd"]), _fmt(r["fov_accuracy"]), _fmt(r["fov_sensitivity"]),
                     _fmt(r["fov_specificity"]), f"{_fmt(r['ensemble_f1'])} {_ci(r['ensemble_f1_ci'])}",
                     f"{limit['f1']:.4f}" if limit else "1 (native)"])
    n_images = _test_images(res)
    return ["## Test metrics", "",
            f"The {n_images} test images (the DRIVE test set, resized to 512x512), threshold {params.threshold}, "
            "scored at "
            "512x512 inside the field of view against the binarised 512x512 masks (probabilities of 256 models are "
            f"resized bilinearly). Each model was trained with {n_seeds} seed(s) ({', '.join(map(str, params.training_seeds))}); "
            "a score is the mean ± sd over seeds of the pooled score "
            f"(every pixel of the {n_images} images together). "
            "*Seed-averaged F1* scores the mean of the seeds' probabilities per image, with a 95% bootstrap "
            f"interval over images ({params.bootstrap} resamples). *F1 ceiling* is what a perfect model trained at "
            "that input size could score: the annotation binarised at that size, up-sized to 512 and thresholded "
            "at 0.5, against the 512 annotation. The per-seed values are in reports/eval/per_seed.csv. "
            + _inference_note(res), "",
            markdown_table(["model", "input", "parameters", "ms/image", "best epoch per seed", "F1 (FOV)", "AUC-ROC (FOV)",
                   "AUC-PR", "accuracy", "sensitivity", "specificity", "seed-averaged F1 [95% CI]", "F1 ceiling"],
                  rows), ""]


def _inference_note(res: Results) -> str:
    """Where the test images were predicted, and in which precision."""
    if res.per_seed is None or "machine" not in res.per_seed:
        return ""
    machines = "; ".join(sorted(res.per_seed["machine"].dropna().unique()))
    return (f"The test images were predicted on {machines}, in fp32 (on every machine, whatever precision a model "
            "trained in, as predict and the other-camera stage do); ms/image is one image's inference there.")


def comparisons_section(params: Params, res: Results) -> list[str]:
    rows = [[c["label"], c["score"], f"{c['mean_diff']:+.4f}", _ci((c["ci_low"], c["ci_high"]), "+"),
             f"{c['b_wins']}/{c['n']}", f"{c['p_wilcoxon']:.3g}",
             " ".join(f"{d:+.4f}" for d in c["per_seed"]) or "n/a"]
            for c in comparison_table(res, params.bootstrap, params.bootstrap_seed)]
    return ["## Paired comparisons (per test image)", "",
            "Second model minus first, paired by test image id, on the seed-averaged probabilities; the last column "
            "is the mean difference within each seed (seed k of one model against seed k of the other).", "",
            markdown_table(["comparison", "score", "mean difference", "95% CI", "2nd better on", "Wilcoxon p",
                   "difference per seed"], rows), "",
            "The study changed the activation and the resolution together; the experiments that separate the two "
            "(`dvc exp run -S activation=silu`, `dvc exp run -S image_size=256`) are summarised in "
            "[ablation.md](ablation.md) by `retina-ablation`.", ""]


def _num(value: float, sign: str = "+") -> str:
    """About three significant digits, never in e-notation."""
    digits = 0 if abs(value) >= 100 else 2 if abs(value) >= 10 else 3 if abs(value) >= 1 else \
        max(3, 2 - math.floor(math.log10(abs(value) or 1)))
    return f"{value:{sign}.{digits}f}"


def _agreement_cell(row) -> str:
    if math.isnan(row["bias"]):
        return "n/a"
    spread = "" if math.isnan(row["bias_sd"]) else f" ± {_num(row['bias_sd'], '')}"
    return f"{_num(row['bias'])}{spread} [{_num(row['lower'])}, {_num(row['upper'])}], r {_fmt(row['r'], 2)}"


CHOSEN_ON = "stare"  # the other camera camera_robust's settings were chosen on (reports/camera_robust.md)
DRIVE_SET = "drive"  # the other_cameras entry that is DRIVE itself, scored at its own protocol


def _set_label(name: str, s: dict) -> str:
    sizes = ", ".join(f"{w}x{h}" for w, h in s["sizes"])
    what = "DRIVE test, its own protocol" if s.get("layout") == "drive" else name
    return f"{what} ({s['fov_degrees']:g}°, {s['images']} photographs, {sizes})"


def cross_camera_section(params: Params, res: Results, scores: pd.DataFrame) -> list[str]:
    summary = res.cross_camera
    head = ["## Other cameras", ""]
    if summary is None or "sets" not in summary:
        return head + ["not measurable: reports/cross_camera/summary.json is missing or from an older layout", ""]
    scored = {name: s for name, s in summary["sets"].items() if "missing" not in s}
    missing = [f"`{name}` ({s['missing']})" for name, s in summary["sets"].items() if "missing" in s]
    if not scored:
        return head + ["Not run: none of params.yaml's `other_cameras` folders is on this machine"
                       + (f" ({', '.join(missing)})" if missing else "") + ".", ""]
    drive = {r["model"]: r for _, r in scores.iterrows()}
    rows = []
    for name, s in scored.items():
        label = _set_label(name, s)
        for model, m in s["models"].items():
            a = m["averaged"]
            rows.append([label, model, _fmt(a["f1"]), format_pm(m["f1"], m["f1_sd"]), _fmt(a["auc_roc"]),
                         _fmt(a.get("sensitivity")), _fmt(a.get("precision")),
                         f"{_fmt(m['ensemble_f1'])} {_ci(tuple(m['ensemble_f1_ci']))}", _fmt(m.get("length_ratio"), 2)])
        second = s.get(ANNOTATOR2)
        if second:
            rows.append([label, "second annotator", _fmt(second["f1"]), "", "n/a", _fmt(second["sensitivity"]),
                         _fmt(second.get("precision")),
                         f"{_fmt(second['per_image_f1'])} {_ci(tuple(second['per_image_f1_ci']))}",
                         _fmt(second.get("length_ratio"), 2)])
    chosen = CHOSEN_ON if CHOSEN_ON in scored else next((n for n in scored if n != DRIVE_SET), None)
    return head + [
        "Each labelled set of params.yaml's `other_cameras` (never trained on), each photograph through predict's "
        "own path (the field of view found from the photograph frames the model's input; the prediction is mapped "
        "back) and scored at its own size inside the set's field-of-view masks (the found one where the set has "
        "none) against its first annotator, "
        f"threshold {params.threshold} (predict's default model `{params.predict.model}` as predict runs it: see "
        "below). Scores pool the pixels of all photographs: of the seed-averaged "
        "probabilities (what predict gives), and one seed at a time (mean ± sd); then the per-image F1 of the "
        "seed-averaged probabilities with its 95% bootstrap interval; and the total vessel length of its mask, "
        "measured as predict measures it, over the annotation's (measured at the annotation's own resolution): "
        "what a user measuring vessels gets. DRIVE's own protocol is its test set at "
        "565x584 in the official FOV masks, beside the main table's 512x512 view."
        + (f" Not on this machine: {', '.join(missing)}." if missing else ""), "",
        markdown_table(["set (field of view, photographs, sizes)", "model", "F1, seeds averaged", "F1 per seed",
                        "AUC-ROC", "sensitivity", "precision", "per-image F1 [95% CI]", "length / annotation's"],
                       rows), "",
        *(predict_default(params, chosen, scored[chosen], drive) if chosen else [])]


# What predict's default model must do: travel to another camera without losing DRIVE quality.
CAMERA_GOAL = {"f1": 0.72, "auc_roc": 0.95, "drive_f1_gap": 0.005}


def _averaging(m: dict) -> str:
    """How a cross-camera entry was predicted, when more than a single pass at 0.5: ', over ... (threshold t)'."""
    how = m.get("averaging", {"flips": ["none"], "scales": [1.0]})
    parts = ([f"mirror images ({', '.join(how['flips'])})"] if how["flips"] != ["none"] else []) + \
        ([f"input scales {', '.join(f'{x:g}' for x in how['scales'])}"] if how["scales"] != [1.0] else [])
    over = f" over {' and '.join(parts)}" if parts else ""
    return f"{over}, threshold {m.get('threshold', 0.5):g} (chosen across cameras: [product_model.md](product_model.md))"


def predict_default(params: Params, set_name: str, summary: dict, drive: dict) -> list[str]:
    """Which model predict uses, why, and whether it meets CAMERA_GOAL on the set it was chosen on and on DRIVE."""
    name, spec = params.predict.model, params.models[params.predict.model]
    study = [m for m, s in params.models.items() if s.input == "raw" and not s.camera_augment and m in drive]
    if name not in summary["models"] or name not in drive or not study:
        return [f"`retina-predict` uses `{name}` (params.yaml `predict.model`); not scored here.", ""]
    m, best = summary["models"][name], max(study, key=lambda k: drive[k]["fov_f1"])
    gap = drive[best]["fov_f1"] - drive[name]["fov_f1"]
    given = m["averaged"]
    checks = {f"F1 >= {CAMERA_GOAL['f1']} here": given["f1"] >= CAMERA_GOAL["f1"],
              f"AUC-ROC >= {CAMERA_GOAL['auc_roc']} here": given["auc_roc"] >= CAMERA_GOAL["auc_roc"],
              f"DRIVE F1 within {CAMERA_GOAL['drive_f1_gap']} of the best study model": gap <= CAMERA_GOAL["drive_f1_gap"]}
    return [f"**Which model predict uses.** `retina-predict` uses `{name}` (params.yaml `predict.model`: "
            f"{spec.activation}, {spec.image_size}x{spec.image_size}, input `{spec.input}`, camera augmentation "
            f"{'on' if spec.camera_augment else 'off'}), chosen on the validation eyes and `{set_name}` as the one "
            "that travels best ([camera_robust.md](camera_robust.md)), and averages the probabilities of its "
            f"{m['seeds']} seeds{_averaging(m)}. What it gives on `{set_name}`: F1 {_fmt(given['f1'])} and AUC-ROC {_fmt(given['auc_roc'])} "
            f"(pooled over the photographs; one seed at a time: F1 {format_pm(m['f1'], m['f1_sd'])}, AUC-ROC "
            f"{format_pm(m['auc_roc'], m['auc_roc_sd'])}); on DRIVE's 512x512 test view (one pass, as evaluate scores "
            f"every model) F1 {_fmt(drive[name]['fov_f1'])} against "
            f"{_fmt(drive[best]['fov_f1'])} for the best study model ({best}): {-gap:+.4f}. Its criteria: F1 >= "
            f"{CAMERA_GOAL['f1']} and AUC-ROC >= {CAMERA_GOAL['auc_roc']} on another camera, and DRIVE F1 within "
            f"{CAMERA_GOAL['drive_f1_gap']} of the best study model; here "
            + "; ".join(f"{k}: {'met' if ok else 'not met'}" for k, ok in checks.items()) + ".", ""]


def morphology_section(params: Params, res: Results) -> list[str]:
    if res.truth_morphology is None:
        return ["## Vessel measurements", "", "not measurable: reports/eval/truth_morphology.csv is missing", ""]
    tables = morphology_table(res)
    truth = res.truth_morphology
    human = ("DRIVE's second annotator, resized like the first, is the human reference (its F1 against the first "
             f"inside the FOV: {_fmt(res.annotator2_f1)})." if res.annotator2_morphology is not None else
             "The human reference (DRIVE's second annotator) is not available: set RETINA_DRIVE to a DRIVE folder "
             "and run `dvc repro -f -s evaluate`.")
    return ["## Vessel measurements: agreement with the annotator", "",
            "Each measure of the vessel tree (retina/measure/morphology.py; definitions and phantom validation in "
            "docs/vessel-measures.md) "
            f"on the {len(truth)} test images at 512x512 inside the field of view, predicted (threshold "
            "0.5) against annotated: Bland-Altman bias (mean of predicted - annotated; ± its sd over seeds), "
            "[95% limits of agreement] and Pearson r over the images, each averaged over seeds. " + human, "",
            markdown_table(["measure (unit)", "annotated mean", *tables],
                  [[f"{m} ({UNITS[m]})", _num(truth[m].mean(), ""), *(_agreement_cell(t.loc[m]) for t in tables.values())]
                   for m in MEASURES]), "",
            f"Pixel size: from each image's FOV diameter for a {params.morphology.fov_degrees:g}-degree camera at "
            f"{params.morphology.um_per_degree:g} µm of retina per degree; the annotated "
            f"mean is {truth['um_per_pixel'].mean():.1f} µm per pixel at 512x512, total vessel length "
            f"{truth['length_mm'].mean():.0f} mm and mean calibre {truth['calibre_mean_um'].mean():.0f} µm. "
            "DRIVE's 565x584 photographs were resized to 512x512 without cropping: a resized pixel spans 1.10 "
            "original pixels across and 1.14 down, so lengths and calibres in resized pixels carry a 3% anisotropy.",
            ""]


def _doubling_cells(d: Doubling | None) -> list[str]:
    if d is None:
        return ["not measured", "not measured"]
    return [f"{d.short:.4f} -> {d.long:.4f} at {2 * d.epochs} ({d.gain:+.4f}; {d.pairs} runs each)",
            "yes" if d.converged else "**no**"]


def budget_section(params: Params, res: Results, n_train: int, sweep: list[dict]) -> list[str]:
    doubled = doubling_by_model(params, res, sweep)
    rows = [[b["model"], str(b["input"]), f"{b['patch']}x{b['patch']}", str(b["epochs"]), f"{b['megapixels']:.0f}",
             _fmt(b["final_val_dice"]), f"{b['gain_mean']:+.4f} (max {b['gain_max']:+.4f})",
             *_doubling_cells(doubled[b["model"]]),
             f"{b['train_seconds']:.0f}", "; ".join(b["machines"])]
            for _, b in training_budget(res, params, n_train).iterrows()]
    compared = [f"{model}: {d.where()}" for model, d in doubled.items() if d is not None]
    t, shared = params.train, params.raw["model"]
    schedule = (f"Every model follows one recipe, chosen on the validation eyes (reports/cost_sweep.md): a U-Net of "
                f"width {shared['width']} and depth {shared['depth']}, {describe_recipe(t)}, "
                f"batches of {t.batch_size}, loss {t.loss}"
                + (", random flips and 90-degree rotations" if t.augment else "")
                + f", validated every {t.val_every} epochs with the best validation Dice's weights kept; the "
                "epochs of each model are in the table.")
    return ["## Training budget and convergence", "", schedule, "",
            "A model is converged at its epochs when the same recipe trained for twice as many gains less than "
            f"{CONVERGED} best validation Dice, mean over seeds (the doubling rule). The runs compared are the cost "
            "sweep's (reports/cost_sweep/runs/, `retina-cost-sweep`) and these; each seed's run at "
            "one length is paired with its run at the other on the same machine where one machine ran both, else "
            "with its runs on every machine averaged.", "",
            "What each model saw in training (one crop or image per training image per epoch), and, as a diagnostic, "
            "how its validation Dice moved over the last quarter of validations against the quarter before, mean "
            "over seeds (max in brackets): a gain there says the run was still improving at its end.", "",
            markdown_table(["model", "input", "training patch", "epochs", "megapixels seen", "final val Dice",
                   "val Dice gain, last quarter", "best val Dice at these epochs -> twice as many (gain; runs)",
                   "converged", "train s per seed", "machine"], rows), "",
            "Lengths compared on: " + ("; ".join(compared) if compared else "none") + ".", ""]


def settings_section(params: Params, res: Results, prov: Provenance, manifest_sum: str) -> list[str]:
    rows = [[t["stage"], f"{t['seconds']:.1f}", ""] for t in res.timings]
    for (model, seed), r in sorted(res.runs.items()):
        rows.append([f"train {model} seed {seed}", f"{r['train_seconds']:.1f}",
                     f"{r['epochs']} epochs, {r['seconds_per_epoch']:.1f} s/epoch on {r.get('machine', r['device'])}"
                     f" ({'bf16' if r['bf16'] else 'fp32'})"
                     + (f", resumed after epoch {r['resumed_after_epoch']}" if r["resumed_after_epoch"] else "")])
    return ["## Settings and provenance", "", provenance_summary(prov), "", file_list(prov), "",
            f"Data manifest (data/raw/manifest.sha256) sha256: `{manifest_sum}`", "",
            markdown_table(["stage", "wall time (s)", "notes"], rows), "",
            "Training times are each run's wall seconds on the machine named. Runs trained side by side on one device "
            "(`retina-train-side-by-side`) shared it, so their seconds are a share of its throughput, not "
            "one run's cost.", "",
            "Parameters (params.yaml):", "", "```yaml", yaml.safe_dump(params.raw, sort_keys=False).strip(), "```", ""]


def build_report(params: Params, res: Results, figures: dict[str, str], manifest_sum: str, prov: Provenance,
                 n_train: int, sweep: list[dict]) -> tuple[str, list[Claim]]:
    """The whole report as Markdown, and the claims it judged; `sweep` holds the cost sweep's runs, for the doubling
    rule (retina.report.convergence)."""
    claims = check_claims({m: res.model_histories(m) for m in params.models},
                          compare(res, "silu256", "silu256_se", "fov_f1", params.bootstrap, params.bootstrap_seed))
    out = ["# retina-unet: the study, reproduced", "",
           "Generated by `dvc repro` (stage `report`) from the pipeline's outputs; do not edit by hand.", ""]
    out += claims_section(claims, params.train.loss)
    scores = score_table(res, params.bootstrap, params.bootstrap_seed)
    out += metrics_section(params, res, scores)
    out += comparisons_section(params, res)
    out += ["## Figures", "", *(f"![{title}]({path})" for title, path in figures.items()), ""]
    out += cross_camera_section(params, res, scores)
    out += morphology_section(params, res)
    out += budget_section(params, res, n_train, sweep)
    out += settings_section(params, res, prov, manifest_sum)
    return "\n".join(out), claims
