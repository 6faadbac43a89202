"""Apply a trained model to fundus photographs of any size and format."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from stages.config import ModelSpec
from stages.data import fov_mask, resize_image
from stages.errors import DataError
from stages.evaluation import resize_probabilities
from stages.inference import predict_proba
from stages.unet import UNet

MIN_SIDE = 64  # smaller photographs carry too little detail to segment vessels


@dataclass
class Prediction:
    """A model's output for one photograph, at the photograph's own size."""

    probability: np.ndarray  # (H, W) float32 in [0, 1], zero outside the field of view
    vessels: np.ndarray  # (H, W) bool
    fov: np.ndarray  # (H, W) bool


def read_photograph(path: Path) -> np.ndarray:
    """A colour fundus photograph (PNG, JPEG, TIFF, ...) as uint8 RGB; alpha is dropped, greyscale refused."""
    try:
        img = Image.open(path)
        img.load()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    if img.mode in ("L", "LA", "1", "I", "I;16", "F"):
        raise DataError(f"{path}: a greyscale image (mode {img.mode}); the models need a colour (RGB) photograph")
    if min(img.size) < MIN_SIDE:
        raise DataError(f"{path}: {img.size[0]}x{img.size[1]} is too small; at least {MIN_SIDE}x{MIN_SIDE} needed")
    return np.asarray(img.convert("RGB"))


def predict_photograph(model: UNet, spec: ModelSpec, image: np.ndarray, threshold: float,
                       device: torch.device = torch.device("cpu")) -> Prediction:
    """Resize to the model's input, predict, map back to the original size and keep the field of view."""
    small = np.round(resize_image(image, spec.image_size) * 255).astype(np.uint8)
    prob = predict_proba(model, small[None], device, bf16=False)
    prob = resize_probabilities(prob, image.shape[:2])[0]
    fov = fov_mask(image.astype(np.float32) / 255).astype(bool)
    prob = np.where(fov, prob, 0).astype(np.float32)
    return Prediction(prob, prob > threshold, fov)


def overlay(image: np.ndarray, vessels: np.ndarray, colour: tuple[int, int, int] = (0, 255, 0),
            alpha: float = 0.6) -> np.ndarray:
    """The photograph with predicted vessels blended in `colour`."""
    out = image.astype(np.float32).copy()
    out[vessels] = (1 - alpha) * out[vessels] + alpha * np.array(colour, np.float32)
    return out.astype(np.uint8)
