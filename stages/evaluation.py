"""Score a trained model on the test images at 512x512, whole image and inside the field of view."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from stages.data import NATIVE_SIZE, Arrays, load_arrays, processed_dir
from stages.inference import load_checkpoint, predict_proba, select_device
from stages.metrics import all_scores, curves
from stages.morphology import MEASURES, vessel_measures
from stages.unet import count_parameters

SCOPES = ("fov", "image")  # inside the field of view; the whole 512x512 image


def resize_probabilities(prob: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Bilinear resize of probability maps (N,h,w) to (N,size,size) or (N,height,width)."""
    shape = (size, size) if isinstance(size, int) else tuple(size)
    if prob.shape[-2:] == shape:
        return prob.astype(np.float32)
    t = torch.from_numpy(np.ascontiguousarray(prob, np.float32))[:, None]
    return F.interpolate(t, size=shape, mode="bilinear", align_corners=False)[:, 0].numpy()


@dataclass
class Evaluation:
    """A model's test-set results."""

    name: str
    prob: np.ndarray  # (N, 512, 512) float32
    per_image: pd.DataFrame
    pooled: dict[str, float]
    curves: dict[str, np.ndarray]
    morphology: pd.DataFrame
    info: dict[str, float]


def score_images(prob: np.ndarray, truth: Arrays, threshold: float) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-image and pooled scores in each scope; columns `<scope>_<score>`."""
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
    return pd.DataFrame(rows), pooled


def morphology_table(masks: np.ndarray, fov: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
    """Vessel measures of each binary mask inside its field of view."""
    return pd.DataFrame([{"image": int(i), **vessel_measures(m, f)} for i, m, f in zip(ids, masks, fov)])


def evaluate_model(checkpoint: Path, data_root: Path, threshold: float, device: str = "auto") -> Evaluation:
    """Predict the test images at the model's input size, resize to 512x512 and score against the 512 masks."""
    dev = select_device(device)
    model, spec, ckpt = load_checkpoint(checkpoint, dev)
    model = model.to(dev)
    images = load_arrays(processed_dir(data_root, spec.image_size) / "test").images
    truth = load_arrays(processed_dir(data_root, NATIVE_SIZE) / "test")
    predict_proba(model, images[:1], dev, bf16=False)  # warm-up, not timed
    start = time.perf_counter()
    prob = predict_proba(model, images, dev, bf16=False)
    seconds = time.perf_counter() - start
    prob = resize_probabilities(prob, NATIVE_SIZE)
    per_image, pooled = score_images(prob, truth, threshold)
    fov = truth.fov.astype(bool)
    info = {"parameters": count_parameters(model), "inference_ms_per_image": 1000 * seconds / len(images),
            "input_size": spec.image_size, "best_epoch": int(ckpt.get("epoch", -1))}
    return Evaluation(spec.name, prob, per_image, pooled, curves(prob[fov], truth.masks[fov].astype(bool)),
                      morphology_table(prob > threshold, truth.fov, truth.ids), info)


def morphology_errors(pred: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per measure: mean of the truth, mean of the prediction, mean signed and mean absolute relative error."""
    rows = []
    for m in MEASURES:
        t, p = truth[m].to_numpy(float), pred[m].to_numpy(float)
        rel = (p - t) / np.where(t == 0, np.nan, np.abs(t))
        rows.append({"measure": m, "truth_mean": np.nanmean(t), "pred_mean": np.nanmean(p),
                     "rel_error_mean": np.nanmean(rel), "abs_rel_error_mean": np.nanmean(np.abs(rel))})
    return pd.DataFrame(rows)

