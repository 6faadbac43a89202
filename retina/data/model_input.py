"""How a photograph becomes a model's input, and how the model's output goes back onto the photograph.

One code path for preprocessing (training, validation and test arrays), evaluation and predict. The kinds of input
(a variant's `input` in params.yaml):

- raw: the study's: the whole photograph resized to the model's size, colour in [0, 1].
- framed: a square around the field of view, resized so that the FOV's diameter fills FILL of the input whatever
  the camera's framing and aspect ratio (outside the photograph: black).
- flat: framed, then each colour channel's slow background (a Gaussian over the FOV, sigma FOV diameter x
  FLAT_SIGMA) is subtracted inside the FOV and the rest standardised: the camera's illumination, colour and contrast
  taken out. Outside the FOV: mid-grey.
- clahe: framed, then contrast-limited adaptive histogram equalisation of each channel inside the FOV.
"""
from __future__ import annotations

from dataclasses import astuple, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from skimage import exposure, filters

from retina.config import INPUTS
from retina.data.images import block_mean, fov_mask, resize_grey, resize_image

FILL = 0.94  # the FOV diameter over the side of a DRIVE photograph resized to 512x512 (470-490 of 512 px)
FLAT_SIGMA = 1 / 30  # background scale, as a fraction of the FOV diameter (~15 px at 512: wider than any vessel)
FLAT_SPREAD = 0.125  # one standard deviation of the flattened channel in [0, 1] units (+-4 sd fill the range)
FOV_SEARCH_SIDE = 1024  # px: longer photographs are searched for their field of view at reduced size (photograph_fov)
CLAHE_TILES = 8  # CLAHE tiles across the input
CLAHE_CLIP = 0.01


@dataclass(frozen=True)
class Box:
    """Where the model's input lies on the photograph, in the photograph's pixels (may extend beyond it)."""

    top: int
    left: int
    height: int
    width: int


def input_box(fov: np.ndarray, kind: str) -> Box:
    """The region of a photograph (with field of view `fov`, (H,W) bool) that a model of input `kind` sees: the
    whole photograph for raw input or when no FOV was found, else a square centred on the FOV. The FOV's diameter is
    its wider extent; where the frame cuts the FOV on one side only, the centre is one radius from the uncut side."""
    height, width = fov.shape
    if kind == "raw" or not fov.any():
        return Box(0, 0, height, width)
    rows, cols = np.flatnonzero(fov.any(1)), np.flatnonzero(fov.any(0))
    diameter = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    side = int(round(diameter / FILL))

    def start(first: int, last: int, length: int) -> int:
        centre = (first + last + 1) / 2
        if first == 0 and last < length - 1:
            centre = last + 1 - diameter / 2
        elif last == length - 1 and first > 0:
            centre = first + diameter / 2
        return int(round(centre - side / 2))

    return Box(start(rows[0], rows[-1], height), start(cols[0], cols[-1], width), side, side)


def crop(array: np.ndarray, box: Box) -> np.ndarray:
    """The part of an (H,W[,C]) array under `box`, zero where the box leaves the array."""
    out = np.zeros((box.height, box.width) + array.shape[2:], array.dtype)
    y0, x0 = max(box.top, 0), max(box.left, 0)
    y1, x1 = min(box.top + box.height, array.shape[0]), min(box.left + box.width, array.shape[1])
    if y1 > y0 and x1 > x0:
        out[y0 - box.top:y1 - box.top, x0 - box.left:x1 - box.left] = array[y0:y1, x0:x1]
    return out


def flatten(x: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Subtract each channel's background inside the FOV (a Gaussian normalised by the FOV's own blur, so the dark
    outside does not leak in) and standardise the rest; mid-grey outside."""
    sigma = FLAT_SIGMA * FILL * x.shape[0]
    weight = np.maximum(filters.gaussian(inside.astype(np.float64), sigma), 1e-3)
    out = np.full(x.shape, 0.5, np.float32)
    if not inside.any():
        return out
    for c in range(x.shape[2]):
        detail = x[..., c] - filters.gaussian(x[..., c] * inside, sigma) / weight
        spread = detail[inside].std() + 1e-6
        out[..., c] = np.where(inside, 0.5 + FLAT_SPREAD * detail / spread, 0.5)
    return np.clip(out, 0, 1)


def equalise(x: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """CLAHE of each channel, black outside the FOV."""
    out = exposure.equalize_adapthist(x, kernel_size=max(x.shape[0] // CLAHE_TILES, 8), clip_limit=CLAHE_CLIP)
    return np.where(inside[..., None], out, 0).astype(np.float32)


def model_input(image: np.ndarray, fov: np.ndarray, kind: str, size: int) -> tuple[np.ndarray, Box]:
    """A photograph (uint8 (H,W,3)) with its field of view ((H,W) bool) as a model's uint8 (size,size,3) input of
    `kind`, and the box it covers on the photograph."""
    if kind not in INPUTS:
        raise ValueError(f"unknown input kind {kind!r}; choices: {', '.join(INPUTS)}")
    box = input_box(fov, kind)
    x = resize_image(crop(image, box), size)
    if kind in ("flat", "clahe"):
        inside = input_fov(fov, box, size).astype(bool)
        x = flatten(x, inside) if kind == "flat" else equalise(x, inside)
    return np.round(x * 255).astype(np.uint8), box


def input_fov(fov: np.ndarray, box: Box, size: int) -> np.ndarray:
    """The field of view as the model sees it: uint8 {0,1} (size,size)."""
    return (resize_grey(crop(fov.astype(np.uint8) * 255, box), size) > 127).astype(np.uint8)


def photograph_fov(image: np.ndarray) -> np.ndarray:
    """The field of view of a uint8 photograph, (H,W) bool. A photograph longer than FOV_SEARCH_SIDE is searched at
    1/k of its size (block means of k x k pixels, k the smallest integer that brings it within that side) and the
    disc found there is resized back bilinearly: its edge is placed to within a block, in a tenth of the time."""
    k = -(-max(image.shape[:2]) // FOV_SEARCH_SIDE)
    if k == 1:
        return fov_mask(image.astype(np.float32) / 255).astype(bool)
    height, width = image.shape[:2]
    small = fov_mask(block_mean(image[..., :1], k) / 255).astype(np.float32)  # red: all that fov_mask reads
    whole = resize_probabilities(small[None], (small.shape[0] * k, small.shape[1] * k))[0]
    return whole[:height, :width] > 0.5


def resize_probabilities(prob: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Bilinear resize of probability maps (N,h,w) to (N,size,size) or (N,height,width)."""
    shape = (size, size) if isinstance(size, int) else tuple(size)
    if prob.shape[-2:] == shape:
        return prob.astype(np.float32)
    t = torch.from_numpy(np.ascontiguousarray(prob, np.float32))[:, None]
    return F.interpolate(t, size=shape, mode="bilinear", align_corners=False)[:, 0].numpy()


def to_photograph(prob: np.ndarray, box: Box | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A model's (size,size) output mapped back onto a photograph of `shape` (zero outside the box)."""
    box = box if isinstance(box, Box) else Box(*(int(v) for v in box))
    full = resize_probabilities(prob[None], (box.height, box.width))[0]
    return crop(full, Box(-box.top, -box.left, *shape))  # the photograph as seen from the box


def box_array(box: Box) -> np.ndarray:
    """A box as stored beside the processed arrays: int64 (top, left, height, width)."""
    return np.asarray(astuple(box), np.int64)
