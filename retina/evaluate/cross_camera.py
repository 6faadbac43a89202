"""Every model on a labelled set from another camera, scored like the main test set but at the photographs' own size.

The set is a folder named by $RETINA_CROSS_CAMERA (DVC does not watch it: `dvc repro -f -s cross_camera` after
setting it). Layout, STARE's: images/<name>.<ext> (colour photographs of any size), labels-ah/<name>.png (the
reference annotator) and, optionally, labels-vk/<name>.png (a second annotator, the human reference). Another set
uses the same layout, or the generic names labels/ and labels2/. Labels are binary (0 and one level above 127:
vessel), at their photograph's size. Each photograph goes through predict's own path (field of view found from the
photograph, turned into the model's input, predicted, mapped back), and is scored inside that field of view.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from retina.atomic import atomic_path
from retina.config import run_dir
from retina.data.dataset import format_manifest, sha256
from retina.data.drive import ANNOTATOR2
from retina.errors import DataError
from retina.data.images import MASK_THRESHOLD, read_mask, read_photograph
from retina.train.checkpoint import load_checkpoint
from retina.evaluate.runs import over_seeds, score_runs, seed_average
from retina.metrics import all_scores, bootstrap_ci
from retina.data.model_input import photograph_fov
from retina.predict.predict import predict_photograph

log = logging.getLogger("cross_camera")
CROSS_CAMERA_ENV = "RETINA_CROSS_CAMERA"
REFERENCE_DIRS = ("labels-ah", "labels")  # the first that exists is the reference annotator
SECOND_DIRS = ("labels-vk", "labels2")  # a second annotator, optional
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".ppm")
CAMERA_SCORES = ("f1", "auc_roc", "auc_pr", "accuracy", "sensitivity", "specificity")


@dataclass
class LabelledSet:
    """Photographs of another camera with their reference (and optional second) annotation."""

    root: Path
    names: list[str]
    images: list[np.ndarray]  # (H, W, 3) uint8 each
    reference: list[np.ndarray]  # (H, W) bool each
    second: list[np.ndarray] | None  # (H, W) bool each
    fingerprint: str  # sha256 over the files read


def cross_camera_root() -> Path | None:
    """The folder named by $RETINA_CROSS_CAMERA, or None when it is not set; a named folder must have images/."""
    value = os.environ.get(CROSS_CAMERA_ENV)
    if not value:
        return None
    root = Path(value)
    if not (root / "images").is_dir():
        raise DataError(f"{root}: ${CROSS_CAMERA_ENV} names no labelled set (images/ is missing)")
    return root


def _labels(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    grey = read_mask(path)
    if grey.shape != shape:
        raise DataError(f"{path}: label is {grey.shape[1]}x{grey.shape[0]}, its photograph {shape[1]}x{shape[0]}")
    levels = np.unique(grey)
    if len(levels) > 2 or (len(levels) == 2 and not levels[0] <= MASK_THRESHOLD < levels[1]):
        raise DataError(f"{path}: label is not binary ({len(levels)} grey levels: {', '.join(map(str, levels[:4]))}"
                        f"{', ...' if len(levels) > 4 else ''}); expected background 0 and one vessel level above "
                        f"{MASK_THRESHOLD} (a JPEG or resized label: binarise it at > {MASK_THRESHOLD} first)")
    return grey > MASK_THRESHOLD


def read_labelled_set(root: Path) -> LabelledSet:
    """Read and check a labelled set: every photograph has a reference label of its size (a clear error if not)."""
    photos = sorted(p for p in (root / "images").iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise DataError(f"{root / 'images'}: no photographs ({', '.join(PHOTO_SUFFIXES)})")
    folders = [next((root / d for d in dirs if (root / d).is_dir()), None) for dirs in (REFERENCE_DIRS, SECOND_DIRS)]
    if folders[0] is None:
        raise DataError(f"{root}: no reference labels ({' or '.join(d + '/' for d in REFERENCE_DIRS)})")
    images, labels, files = [], [[], []], []
    for photo in photos:
        images.append(read_photograph(photo))
        files.append(photo)
        for k, folder in enumerate(folders):
            if folder is not None:
                labels[k].append(_labels(folder / f"{photo.stem}.png", images[-1].shape[:2]))
                files.append(folder / f"{photo.stem}.png")
    digest = hashlib.sha256(format_manifest({p.relative_to(root).as_posix(): sha256(p) for p in files}).encode()
                            ).hexdigest()
    return LabelledSet(root, [p.stem for p in photos], images, labels[0], labels[1] if folders[1] else None, digest)


def _scores(probs: list[np.ndarray], data: LabelledSet, fovs: list[np.ndarray], threshold: float
            ) -> tuple[pd.DataFrame, dict[str, float]]:
    rows = [{"image": name, **all_scores(p, t, threshold, f)}
            for name, p, t, f in zip(data.names, probs, data.reference, fovs)]
    pooled = all_scores(np.concatenate([p[f] for p, f in zip(probs, fovs)]),
                        np.concatenate([t[f] for t, f in zip(data.reference, fovs)]), threshold)
    return pd.DataFrame(rows).set_index("image"), pooled


def score_cross_camera(models: list[str], seeds: tuple[int, ...], model_root: Path, data: LabelledSet, out: Path,
                       threshold: float, resamples: int, seed: int) -> dict:
    """Score every (model, seed) and each model's seed-averaged probabilities on the set, and the second annotator;
    write per_seed.csv, <model>/per_image.csv, annotator2/per_image.csv and summary.json to `out` (replaced whole
    only on success); return the summary."""
    summary: dict = {"configured": True, "set": data.root.name, "images": len(data.names),
                     "sha256": data.fingerprint, "models": {}}
    fovs = [photograph_fov(image) for image in data.images]

    def predict(name: str, run_seed: int) -> tuple[list[np.ndarray], dict]:
        model, spec, _ = load_checkpoint(model_root / run_dir(name, run_seed) / "best.pt")
        return [predict_photograph([model], spec, image, threshold, fov=fov).probability
                for image, fov in zip(data.images, fovs)], {}

    rows = []
    with atomic_path(out) as tmp:
        for runs in score_runs(models, seeds, predict, lambda probs: _scores(probs, data, fovs, threshold)):
            name = runs[0].model
            for run in runs:
                rows.append({"model": name, "seed": run.seed, **run.pooled})
                log.info("%s seed %d on %s: F1 (FOV) %.4f, AUC-ROC %.4f", name, run.seed, data.root.name,
                         run.pooled["f1"], run.pooled["auc_roc"])
            per_image, averaged = _scores(seed_average(runs), data, fovs, threshold)
            (tmp / name).mkdir(parents=True)
            per_image.to_csv(tmp / name / "per_image.csv", float_format="%.6f")
            summary["models"][name] = {
                **over_seeds(pd.DataFrame([r for r in rows if r["model"] == name]), CAMERA_SCORES, ("f1", "auc_roc")),
                "averaged": {k: float(averaged[k]) for k in ("f1", "auc_roc")},  # what predict gives
                "ensemble_f1": float(per_image["f1"].mean()),
                "ensemble_f1_ci": list(bootstrap_ci(per_image["f1"].to_numpy(), resamples, seed))}
        pd.DataFrame(rows).to_csv(tmp / "per_seed.csv", index=False, float_format="%.6f")
        if data.second is not None:
            second = [m.astype(np.float32) for m in data.second]
            per_image, pooled = _scores(second, data, fovs, threshold)
            (tmp / ANNOTATOR2).mkdir()
            per_image.to_csv(tmp / ANNOTATOR2 / "per_image.csv", float_format="%.6f")
            summary[ANNOTATOR2] = {**{k: float(pooled[k]) for k in ("f1", "accuracy", "sensitivity", "specificity")},
                                   "per_image_f1": float(per_image["f1"].mean()),
                                   "per_image_f1_ci": list(bootstrap_ci(per_image["f1"].to_numpy(), resamples,
                                                                        seed))}
            log.info("second annotator on %s: F1 (FOV) %.4f", data.root.name, pooled["f1"])
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def skip(out: Path) -> dict:
    """No set configured: say so in `out`/summary.json, so the report can too."""
    summary = {"configured": False,
               "how": f"set ${CROSS_CAMERA_ENV} to a labelled set (STARE layout) and run `dvc repro -f -s cross_camera`"}
    with atomic_path(out) as tmp:
        tmp.mkdir(parents=True)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
