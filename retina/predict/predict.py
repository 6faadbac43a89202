"""Apply a trained model to fundus photographs of any size and format."""
from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from retina.atomic import save_png, write_text
from retina.config import ModelSpec
from retina.errors import ConfigError
from retina.data.images import read_photograph
from retina.train.checkpoint import load_checkpoint
from retina.train.model import UNet
from retina.data.model_input import model_input, photograph_fov
from retina.measure.morphology import (MEASURE_FOV_PX, SPUR_RATIO, UM_PER_DEGREE, UNITS, fov_diameter,
                                      um_per_pixel_from_fov, vessel_measures)
from retina.measure.optic_disc import OpticDisc, find_optic_disc
from retina.measure.vessel_scale import widest_calibre
from retina.predict.averaging import NO_FLIPS, ONE_SCALE, input_sides, on_photograph, segment_input
from retina.predict.quality import beyond_range, photo_features, quality_flags

log = logging.getLogger("predict")


@dataclass
class Prediction:
    """A model's output for one photograph, at the photograph's own size."""

    probability: np.ndarray  # (H, W) float32 in [0, 1], zero outside the field of view
    vessels: np.ndarray  # (H, W) bool
    fov: np.ndarray  # (H, W) bool


def predict_photograph(models: list[UNet], spec: ModelSpec, image: np.ndarray, threshold: float,
                       device: torch.device = torch.device("cpu"), fov: np.ndarray | None = None,
                       flips: tuple[str, ...] = NO_FLIPS, scales: tuple[float, ...] = ONE_SCALE) -> Prediction:
    """Turn the photograph into the input of `spec` at each of `scales` of its image_size (input_sides), predict
    with each of `models` (one model's training seeds) on each mirror image `flips` (retina.predict.averaging),
    average the probabilities, map them back to the photograph and keep its field of view (`fov`, bool, when
    already found by photograph_fov; found here otherwise)."""
    fov = photograph_fov(image) if fov is None else fov
    maps = []
    for side in input_sides(spec.image_size, scales, 2 ** spec.depth):
        small, box = model_input(image, fov, spec.input, side)
        maps.append(segment_input(models, small, device, flips))
    prob = on_photograph(maps, box, fov)
    return Prediction(prob, prob > threshold, fov)


def overlay(image: np.ndarray, vessels: np.ndarray, colour: tuple[int, int, int] = (0, 255, 0),
            alpha: float = 0.6) -> np.ndarray:
    """The photograph with predicted vessels blended in `colour`."""
    out = image.astype(np.float32).copy()
    out[vessels] = (1 - alpha) * out[vessels] + alpha * np.array(colour, np.float32)
    return out.astype(np.uint8)


def pixel_scale(fov: np.ndarray, um_per_pixel: float | None, fov_degrees: float | None,
                um_per_degree: float) -> dict:
    """The pixel size a photograph's measures are given in, and where it comes from: `um_per_pixel` as given, else
    the camera's field of view (`fov_degrees` across the FOV disc, um_per_degree micrometres of retina a degree);
    neither: pixels only."""
    if um_per_pixel is not None:
        return {"um_per_pixel": um_per_pixel, "from": "the pixel size given", "fov_degrees": None}
    if fov_degrees is None:
        return {"um_per_pixel": None, "from": "no pixel size or field of view given", "fov_degrees": None}
    return {"um_per_pixel": um_per_pixel_from_fov(fov, fov_degrees, um_per_degree),
            "from": f"a {fov_degrees:g}° field of view across the FOV disc", "fov_degrees": fov_degrees}


def disc_entry(disc: OpticDisc | None, um_per_pixel: float | None) -> dict | None:
    """An optic disc as measures.json gives it: centre and diameter in the photograph's pixels, the diameter in
    micrometres given the pixel size (1500-1900 in adult eyes), and how much brighter it is than its surroundings."""
    if disc is None:
        return None
    return {"row": round(disc.row, 1), "col": round(disc.col, 1), "diameter_px": round(disc.diameter, 1),
            "diameter_um": round(disc.diameter * um_per_pixel) if um_per_pixel else None,
            "prominence": round(disc.prominence, 3)}


def predict_files(images: list[Path], checkpoints: list[Path], out: Path, threshold: float,
                  spur_ratio: float = SPUR_RATIO, um_per_pixel: float | None = None,
                  ranges: dict[str, list[float]] | None = None, fov_degrees: float | None = None,
                  um_per_degree: float = UM_PER_DEGREE, measure_fov_px: float = MEASURE_FOV_PX,
                  flips: tuple[str, ...] = NO_FLIPS, scales: tuple[float, ...] = ONE_SCALE) -> list[dict]:
    """Predict each image with the mean probability of the checkpoints (one model's training seeds; all images are
    read and checked before anything is written) over the mirror images `flips` and input `scales`
    (retina.predict.averaging); return their measures (also in micrometres given the
    photographs' pixel size, or the camera's field of view: pixel_scale; taken at about `measure_fov_px` across the
    field of view when it is much wider), the optic disc (retina.measure.optic_disc) and, given the training ranges,
    the reasons to doubt each."""
    photos = [(path, read_photograph(path)) for path in images]
    loaded = [load_checkpoint(path) for path in checkpoints]
    spec = loaded[0][1]
    if any(other.name != spec.name for _, other, _ in loaded):
        raise ConfigError(f"{', '.join(map(str, checkpoints))}: checkpoints of different models cannot be averaged")
    seeds = [info.get("seed") for _, _, info in loaded]
    sides = input_sides(spec.image_size, scales, 2 ** spec.depth)
    averaging = {"flips": list(flips), "scales": list(scales), "input_sides": list(sides)}
    results = []
    for path, photo in photos:
        start = time.perf_counter()
        pred = predict_photograph([model for model, _, _ in loaded], spec, photo, threshold, flips=flips, scales=scales)
        seconds = time.perf_counter() - start
        stem = out / path.stem
        for suffix, image in [("probability", np.round(pred.probability * 255).astype(np.uint8)),
                              ("vessels", pred.vessels.astype(np.uint8) * 255), ("overlay", overlay(photo, pred.vessels))]:
            save_png(image, Path(f"{stem}_{suffix}.png"), compress_level=1)  # fast: a 4752x3168 photograph's in 1 s
        scale = pixel_scale(pred.fov, um_per_pixel, fov_degrees, um_per_degree)
        tree = vessel_measures(pred.vessels, pred.fov, spur_ratio, scale["um_per_pixel"], measure_fov_px)
        scale["measured_at"] = f"1/{tree.pixel_factor} of the photograph's size" if tree.pixel_factor > 1 else \
            "the photograph's size"
        write_text(Path(f"{stem}_segments.csv"), tree.segments.to_csv(index=False, float_format="%.4f"))
        features = {**photo_features(photo), "vessel_density": float(pred.vessels[pred.fov].mean())
                    if pred.fov.any() else 0.0}
        if scale["um_per_pixel"]:
            widest = widest_calibre(pred.probability, pred.fov, threshold) * fov_diameter(pred.fov)
            if math.isfinite(widest):  # with no vessel found there is no ruler
                features["widest_vessel_um"] = widest * scale["um_per_pixel"]
        flags = quality_flags(features, ranges) if ranges else ["no training ranges to compare with"]
        checked = bool(ranges) and "widest_vessel_um" in features
        scale["trusted"] = not beyond_range("widest_vessel_um", features, ranges) if checked else None
        for flag in flags:
            log.warning("%s: %s", path, flag)
        measures = {"image": str(path), "model": spec.name, "seeds": seeds, "averaging": averaging,
                    "threshold": threshold, "size": list(photo.shape[:2]), "units": UNITS,
                    "seconds": round(seconds, 3), "scale": scale, "quality": {"flags": flags, "features": features},
                    "optic_disc": disc_entry(find_optic_disc(photo, pred.fov, pred.probability), scale["um_per_pixel"]),
                    **{k: None if math.isnan(v) else v for k, v in tree.summary.items()}}
        write_text(Path(f"{stem}_measures.json"), json.dumps(measures, indent=1) + "\n")
        log.info("%s: %.2f s, vessel density %.3f", path, seconds, measures["density"])
        results.append(measures)
    return results
