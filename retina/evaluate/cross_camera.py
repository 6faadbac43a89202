"""Every model on labelled sets from other cameras (and DRIVE at its own protocol), scored like the main test set but
each photograph at its own size, inside the set's own field-of-view masks where it has them (else the field of view
found from the photograph). The sets are params.yaml's `other_cameras` (retina.evaluate.labelled_sets reads them).
Each photograph goes through predict's own path, as a user's would: the field of view found from the photograph
frames the model's input, and the prediction is mapped back (zero outside that field of view). Predict's default
model is scored as predict runs it (params.yaml `predict`: its test-time averaging and threshold); the others with a
single pass at evaluate.threshold. The total vessel
length of the thresholded seed-averaged probabilities, measured as predict measures it, is compared with the
annotation's, measured at the annotation's own resolution: what a user measuring vessels gets.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from retina.atomic import atomic_path
from retina.config import CameraSet, MorphologySettings, PredictSettings, run_dir
from retina.data.drive import ANNOTATOR2
from retina.data.model_input import photograph_fov
from retina.evaluate.labelled_sets import LabelledSet, is_drive, read_labelled_set
from retina.evaluate.runs import over_seeds, score_runs, seed_average
from retina.measure.morphology import vessel_measures
from retina.metrics import all_scores, bootstrap_ci
from retina.predict.averaging import NO_FLIPS, ONE_SCALE
from retina.predict.predict import predict_photograph
from retina.train.checkpoint import load_checkpoint

log = logging.getLogger("cross_camera")
CAMERA_SCORES = ("f1", "auc_roc", "auc_pr", "accuracy", "sensitivity", "specificity", "precision")
HUMAN_SCORES = ("f1", "accuracy", "sensitivity", "specificity", "precision")


def _scores(probs: list[np.ndarray], data: LabelledSet, fovs: list[np.ndarray], threshold: float
            ) -> tuple[pd.DataFrame, dict[str, float]]:
    rows = [{"image": name, **all_scores(p, t, threshold, f)}
            for name, p, t, f in zip(data.names, probs, data.reference, fovs)]
    pooled = all_scores(np.concatenate([p[f] for p, f in zip(probs, fovs)]),
                        np.concatenate([t[f] for t, f in zip(data.reference, fovs)]), threshold)
    return pd.DataFrame(rows).set_index("image"), pooled


def _lengths(masks: list[np.ndarray], fovs: list[np.ndarray], how: MorphologySettings, fov_px: float) -> list[float]:
    """Total vessel length (px) of each mask inside its field of view, measured at `fov_px` across (see
    retina.measure.morphology)."""
    return [vessel_measures(m, f, how.spur_ratio, fov_px=fov_px).summary["length"] for m, f in zip(masks, fovs)]


def score_cross_camera(models: list[str], seeds: tuple[int, ...], model_root: Path, data: LabelledSet, out: Path,
                       threshold: float, resamples: int, seed: int, how: MorphologySettings,
                       product: PredictSettings | None = None) -> dict:
    """Score every (model, seed) and each model's seed-averaged probabilities on the set (`product.model` with its
    averaging and threshold, the others with a single pass at `threshold`), and the second annotator;
    measure the total vessel length of the seed-averaged masks (as predict measures it) and of the annotations (at
    their own resolution); write per_seed.csv, <model>/per_image.csv, annotator2/per_image.csv and summary.json to
    `out` (replaced whole only on success); return the summary."""
    summary: dict = {"configured": True, "set": data.root.name, "images": len(data.names),
                     "sizes": [list(size) for size in data.sizes], "sha256": data.fingerprint,
                     "fov": "the set's masks" if data.fov is not None else "found from each photograph",
                     "models": {}}
    found = [photograph_fov(image) for image in data.images]  # what predict frames a photograph by
    fovs = data.fov if data.fov is not None else found  # where it is scored
    truth_length = _lengths(data.reference, fovs, how, math.inf)
    summary["annotation_length"] = float(sum(truth_length))

    def run_as(name: str) -> tuple[tuple[str, ...], tuple[float, ...], float]:
        if product is not None and name == product.model:
            return product.flips, product.scales, product.threshold
        return NO_FLIPS, ONE_SCALE, threshold

    def predict(name: str, run_seed: int) -> tuple[list[np.ndarray], dict]:
        model, spec, _ = load_checkpoint(model_root / run_dir(name, run_seed) / "best.pt")
        flips, scales, cut = run_as(name)
        return [predict_photograph([model], spec, image, cut, fov=fov, flips=flips, scales=scales).probability
                for image, fov in zip(data.images, found)], {}

    rows = []
    with atomic_path(out) as tmp:
        for name in models:
            flips, scales, cut = run_as(name)
            [runs] = score_runs([name], seeds, predict, lambda probs: _scores(probs, data, fovs, cut))
            for run in runs:
                rows.append({"model": name, "seed": run.seed, **run.pooled})
                log.info("%s seed %d on %s: F1 (FOV) %.4f, AUC-ROC %.4f", name, run.seed, data.root.name,
                         run.pooled["f1"], run.pooled["auc_roc"])
            probs = seed_average(runs)
            per_image, averaged = _scores(probs, data, fovs, cut)
            per_image["length"] = _lengths([p > cut for p in probs], fovs, how, how.measure_fov_px)
            per_image["annotation_length"] = truth_length
            (tmp / name).mkdir(parents=True)
            per_image.to_csv(tmp / name / "per_image.csv", float_format="%.6f")
            summary["models"][name] = {
                "averaging": {"flips": list(flips), "scales": list(scales)}, "threshold": cut,
                **over_seeds(pd.DataFrame([r for r in rows if r["model"] == name]), CAMERA_SCORES, ("f1", "auc_roc")),
                "averaged": {k: float(averaged[k]) for k in CAMERA_SCORES},  # what predict gives
                "length_ratio": float(per_image["length"].sum() / sum(truth_length)),
                "ensemble_f1": float(per_image["f1"].mean()),
                "ensemble_f1_ci": list(bootstrap_ci(per_image["f1"].to_numpy(), resamples, seed))}
        pd.DataFrame(rows).to_csv(tmp / "per_seed.csv", index=False, float_format="%.6f")
        if data.second is not None:
            second = [m.astype(np.float32) for m in data.second]
            per_image, pooled = _scores(second, data, fovs, threshold)
            per_image["length"] = _lengths(data.second, fovs, how, math.inf)
            per_image["annotation_length"] = truth_length
            (tmp / ANNOTATOR2).mkdir()
            per_image.to_csv(tmp / ANNOTATOR2 / "per_image.csv", float_format="%.6f")
            summary[ANNOTATOR2] = {**{k: float(pooled[k]) for k in HUMAN_SCORES},
                                   "length_ratio": float(per_image["length"].sum() / sum(truth_length)),
                                   "per_image_f1": float(per_image["f1"].mean()),
                                   "per_image_f1_ci": list(bootstrap_ci(per_image["f1"].to_numpy(), resamples,
                                                                        seed))}
            log.info("second annotator on %s: F1 (FOV) %.4f", data.root.name, pooled["f1"])
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def score_sets(sets: dict[str, CameraSet], models: list[str], seeds: tuple[int, ...], model_root: Path, out: Path,
               threshold: float, resamples: int, seed: int, how: MorphologySettings,
               product: PredictSettings | None = None) -> dict:
    """Score every set of `sets` (out/<name>/, see score_cross_camera) and write out/summary.json: each set's summary
    with its field of view in degrees and layout, or where it was looked for when its folder is missing."""
    summary: dict = {"sets": {}}
    for name, camera in sets.items():
        if not camera.path.is_dir():
            log.warning("%s: %s is missing on this machine: not scored", name, camera.path)
            summary["sets"][name] = {"missing": str(camera.path), "fov_degrees": camera.fov_degrees}
            continue
        scored = score_cross_camera(models, seeds, model_root, read_labelled_set(camera.path), out / name, threshold,
                                    resamples, seed, how, product)
        summary["sets"][name] = {**scored, "fov_degrees": camera.fov_degrees,
                                 "layout": "drive" if is_drive(camera.path) else "images/labels"}
    with atomic_path(out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1) + "\n")
    return summary
