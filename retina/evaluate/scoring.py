"""Score vessel probabilities on the test images at 512x512, whole image and inside the field of view."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from retina.atomic import atomic_path
from retina.data.arrays import Arrays, load_arrays, processed_dir
from retina.config import MorphologySettings, run_dir
from retina.data.dataset import NATIVE_SIZE
from retina.data.drive import ANNOTATOR2
from retina.train.batched_prediction import predict_proba
from retina.train.checkpoint import load_checkpoint
from retina.train.device import select_device
from retina.evaluate.runs import over_seeds, score_runs, seed_average
from retina.machine import describe
from retina.metrics import all_scores, confusion, curves, dequantise, quantise, threshold_scores
from retina.train.model import count_parameters
from retina.data.model_input import resize_probabilities, to_photograph
from retina.measure.morphology import um_per_pixel_from_fov, vessel_measures

log = logging.getLogger("evaluate")
SCOPES = ("fov", "image")  # inside the field of view; the whole 512x512 image
SUMMARY_KEYS = ("fov_f1", "fov_auc_roc", "fov_auc_pr", "fov_accuracy", "fov_sensitivity", "fov_specificity",
                "image_f1", "image_accuracy")


@dataclass
class TestPrediction:
    """One trained model's test-set probabilities at 512x512, and facts about the model."""

    prob: np.ndarray  # (N, 512, 512) float32
    info: dict[str, float]


def score_images(prob: np.ndarray, truth: Arrays, threshold: float) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-image (indexed by image id) and pooled scores in each scope; columns `<scope>_<score>`."""
    rows = []
    for i, image_id in enumerate(truth.ids):
        row: dict[str, float] = {"image": int(image_id)}
        for scope in SCOPES:
            region = truth.fov[i] if scope == "fov" else None
            row.update({f"{scope}_{k}": v for k, v in all_scores(prob[i], truth.masks[i], threshold, region).items()})
        rows.append(row)
    pooled = {}
    for scope in SCOPES:
        region = truth.fov if scope == "fov" else None
        pooled.update({f"{scope}_{k}": v for k, v in all_scores(prob, truth.masks, threshold, region).items()})
    return pd.DataFrame(rows).set_index("image"), pooled


def fov_curves(probs: list[np.ndarray], truth: Arrays) -> dict[str, np.ndarray]:
    """ROC and PR curves of the pixels inside the field of view, pooled over several predictions (seeds)."""
    fov = truth.fov.astype(bool)
    return curves(np.concatenate([p[fov] for p in probs]), np.tile(truth.masks[fov].astype(bool), len(probs)))


def measure_masks(masks: np.ndarray, fov: np.ndarray, ids: np.ndarray, how: MorphologySettings) -> pd.DataFrame:
    """Vessel measures of each binary mask inside its field of view, indexed by image id; each image's pixel size
    from the diameter of its field of view."""
    return pd.DataFrame([{"image": int(i), **vessel_measures(
        m, f, how.spur_ratio, um_per_pixel_from_fov(f, how.fov_degrees, how.um_per_degree), how.measure_fov_px).summary}
        for i, m, f in zip(ids, masks, fov)]).set_index("image")


def score_annotator(masks: np.ndarray, truth: Arrays, threshold: float, how: MorphologySettings, folder: Path
                    ) -> float:
    """Score a second annotator's binary masks like a model (per_image.csv, metrics.json, morphology.csv in
    `folder`); return the pooled F1 inside the FOV."""
    folder.mkdir(parents=True)
    per_image, pooled = score_images(masks.astype(np.float32), truth, threshold)
    per_image.to_csv(folder / "per_image.csv", float_format="%.6f")
    (folder / "metrics.json").write_text(json.dumps({"pooled": pooled}, indent=1) + "\n")
    measure_masks(masks.astype(bool), truth.fov, truth.ids, how).to_csv(folder / "morphology.csv",
                                                                         float_format="%.6f")
    return pooled["fov_f1"]


def predict_split(checkpoint: Path, data_root: Path, device: str = "auto", split: str = "test") -> TestPrediction:
    """Predict one processed split's images (the test images unless `split` names another) as the model's input and
    map them back to 512x512. In fp32 on every machine, as the
    other-camera stage and predict do, whatever precision the model trained in: bf16 prediction would move the scores
    in their fourth digit between CPUs that run bf16 natively and those that do not."""
    dev = select_device(device)
    model, spec, ckpt = load_checkpoint(checkpoint, dev)
    test = load_arrays(processed_dir(data_root, spec.image_size, spec.input) / split)
    images = test.images
    predict_proba(model, images[:1], dev, bf16=False)  # warm-up, not timed
    start = time.perf_counter()
    prob = predict_proba(model, images, dev, bf16=False)
    seconds = time.perf_counter() - start
    info = {"parameters": count_parameters(model), "inference_ms_per_image": 1000 * seconds / len(images),
            "input_size": spec.image_size, "best_epoch": int(ckpt.get("epoch", -1)),
            "machine": describe(dev)}
    back = np.stack([to_photograph(p, box, (NATIVE_SIZE, NATIVE_SIZE)) for p, box in zip(prob, test.boxes)])
    return TestPrediction(back, info)


def resolution_ceiling(data_root: Path, size: int) -> pd.DataFrame:
    """F1 inside the FOV of the perfect `size` mask (the annotation binarised at `size`, as the models learn it)
    up-sized bilinearly to 512 and thresholded at 0.5, against the 512 annotation: the best a model trained at
    `size` can score at 512. Indexed by image id."""
    small = load_arrays(processed_dir(data_root, size) / "test")
    truth = load_arrays(processed_dir(data_root, NATIVE_SIZE) / "test")
    up = resize_probabilities(small.masks.astype(np.float32), NATIVE_SIZE) > 0.5
    return pd.DataFrame({"image": truth.ids,
                         "fov_f1": [threshold_scores(*confusion(u, t, f))["f1"]
                                    for u, t, f in zip(up, truth.masks, truth.fov)]}).set_index("image")


def evaluate_all(models: list[str], seeds: tuple[int, ...], model_root: Path, data_root: Path, out: Path,
                 predictions: Path, threshold: float, how: MorphologySettings,
                 annotator2: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """Score every (model, seed) best checkpoint, each model's seed-averaged probabilities and, when given, a
    second annotator's masks (in out/annotator2/); replace `out` and `predictions` only when all succeed.
    Returns the summary: each key's mean over seeds and its sd."""
    truth = load_arrays(processed_dir(data_root, NATIVE_SIZE) / "test")

    def predict(name: str, seed: int) -> tuple[np.ndarray, dict]:
        pred = predict_split(model_root / run_dir(name, seed) / "best.pt", data_root)
        stored[name, seed] = quantise(pred.prob)  # scored as stored in data/predictions: they reproduce every score
        return dequantise(stored[name, seed]), pred.info

    stored: dict[tuple[str, int], np.ndarray] = {}
    rows = []
    with atomic_path(out) as tmp, atomic_path(predictions) as tmp_pred:
        for runs in score_runs(models, seeds, predict, lambda prob: score_images(prob, truth, threshold)):
            for run in runs:
                folder = tmp / run_dir(run.model, run.seed)
                folder.mkdir(parents=True)
                run.per_image.to_csv(folder / "per_image.csv", float_format="%.6f")
                measure_masks(run.probs > threshold, truth.fov, truth.ids, how).to_csv(
                    folder / "morphology.csv", float_format="%.6f")
                (folder / "metrics.json").write_text(json.dumps({"pooled": run.pooled, **run.info}, indent=1) + "\n")
                (tmp_pred / run.model).mkdir(parents=True, exist_ok=True)
                np.save(tmp_pred / f"{run_dir(run.model, run.seed)}.npy", stored.pop((run.model, run.seed)))
                rows.append({"model": run.model, "seed": run.seed, **{k: run.pooled[k] for k in SUMMARY_KEYS},
                             **run.info})
                log.info("%s seed %d: F1 (FOV) %.4f, AUC-ROC %.4f", run.model, run.seed, run.pooled["fov_f1"],
                         run.pooled["fov_auc_roc"])
            name = runs[0].model
            score_images(seed_average(runs), truth, threshold)[0].to_csv(tmp / name / "per_image.csv",
                                                                         float_format="%.6f")
            c = fov_curves([r.probs for r in runs], truth)
            pd.DataFrame({"fpr": c["fpr"], "tpr": c["tpr"]}).to_csv(tmp / name / "roc.csv", index=False)
            pd.DataFrame({"recall": c["recall"], "precision": c["precision"]}).to_csv(tmp / name / "pr.csv", index=False)
        per_seed = pd.DataFrame(rows)
        per_seed.to_csv(tmp / "per_seed.csv", index=False, float_format="%.6f")
        summary = {name: {k: v if v is None or k == "seeds" else round(v, 5)
                          for k, v in over_seeds(group, SUMMARY_KEYS, ("fov_f1", "fov_auc_roc")).items()}
                   for name, group in per_seed.groupby("model", sort=False)}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        measure_masks(truth.masks, truth.fov, truth.ids, how).to_csv(tmp / "truth_morphology.csv",
                                                                        float_format="%.6f")
        if annotator2 is not None:
            f1 = score_annotator(annotator2, truth, threshold, how, tmp / ANNOTATOR2)
            log.info("second annotator: F1 (FOV) %.4f", f1)
        sizes = sorted({int(i) for i in per_seed["input_size"]} - {NATIVE_SIZE})
        if sizes:
            pd.concat({size: resolution_ceiling(data_root, size) for size in sizes}, names=["size"]).to_csv(
                tmp / "ceiling.csv", float_format="%.6f")
    return summary
