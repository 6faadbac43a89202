"""Test-time averaging: a model's vessel probabilities averaged over its training seeds, over mirror images of its
input and over input sizes (the same framing at several resolutions, so vessels reach the network at several
scales)."""
from __future__ import annotations

import numpy as np
import torch

from retina.config import FLIPS as FLIP_NAMES
from retina.data.model_input import Box, resize_probabilities, to_photograph
from retina.train.batched_prediction import predict_proba
from retina.train.model import UNet

# The mirror images of an (H,W[,C]) input (named in retina.config) and the image axes each reverses.
FLIPS: dict[str, tuple[int, ...]] = dict(zip(FLIP_NAMES, ((), (1,), (0,), (0, 1))))
# A single pass: the input as it is, at the model's own size.
NO_FLIPS: tuple[str, ...] = ("none",)
ONE_SCALE: tuple[float, ...] = (1.0,)


def segment_input(models: list[UNet], x: np.ndarray, device: torch.device,
                  flips: tuple[str, ...] = NO_FLIPS) -> np.ndarray:
    """The mean vessel probability (S,S) float32 of `models` over the mirror images `flips` (names of FLIPS) of one
    uint8 input x (S,S,3), each output mirrored back."""
    axes = [FLIPS[name] for name in flips]
    stack = np.stack([np.flip(x, a) if a else x for a in axes])
    maps = []
    for model in models:
        out = predict_proba(model, np.ascontiguousarray(stack), device, bf16=False)
        maps += [np.flip(p, a) if a else p for p, a in zip(out, axes)]
    return np.mean(maps, axis=0)


def merge_sizes(maps: list[np.ndarray]) -> np.ndarray:
    """Probability maps of one input at several sizes ((S_k,S_k) each), resized bilinearly to the largest and
    averaged."""
    side = max(m.shape[0] for m in maps)
    return np.mean([resize_probabilities(m[None], side)[0] for m in maps], axis=0)


def input_sides(size: int, scales: tuple[float, ...], multiple: int) -> tuple[int, ...]:
    """The input sides for `scales` of a model's input `size`, each rounded to a multiple of `multiple` (the U-Net's
    2**depth), in the order given."""
    return tuple(max(multiple, int(round(size * s / multiple)) * multiple) for s in scales)


def on_photograph(maps: list[np.ndarray], box: Box, fov: np.ndarray) -> np.ndarray:
    """Probability maps of one input at several sizes (merge_sizes) mapped back onto the photograph whose input
    covers `box` and whose field of view is `fov` ((H,W) bool): float32 (H,W), zero outside the field of view."""
    return np.where(fov, to_photograph(merge_sizes(maps), box, fov.shape), 0).astype(np.float32)
