"""The optic disc: where a photograph's vessels enter the eye, and a ruler that every adult eye carries.

The disc is the bright, roughly round patch where the big vessels converge, about 1.5-1.9 mm (5-6.5 degrees of
visual angle) across in adult eyes whatever the camera. It is searched on a grid of GRID pixels across the field of
view: the photograph's brightness with the vessels closed over (a grey closing wider than the widest vessel), divided
by its slow illumination, smoothed at the disc's scale, plus the vessel density around each point when the vessels
are given. The disc's edge is where the mean brightness in rings about that centre first falls below EDGE_LEVEL of
the way from its surroundings' level to its centre's (the steepest fall would often be the bright cup's edge). The
constants were chosen on the labelled camera sets (reports/optic_disc.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi
from skimage.morphology import disk, closing

from retina.data.images import block_mean
from retina.measure.morphology import fov_diameter

GRID = 256  # px across the field of view at which the disc is searched
# Search limits as shares of the field of view's diameter: a disc 4-8 degrees across seen by a 30-60 degree camera.
DIAMETER_RANGE = (0.06, 0.28)
VESSEL_CLOSING = 0.015  # radius of the closing that removes vessels (3-4 px at GRID: wider than the arcades)
BACKGROUND_SIGMA = 0.12  # the slow illumination's scale
BRIGHT_SIGMA = 0.05  # the disc's brightness, smoothed at about its radius at 45 degrees
VESSEL_SIGMA = 0.06  # the vessels' convergence, counted over about a disc's width
VESSELS_SEEN = 0.05  # the least range of the vessel probability over the field of view that is taken as vessels
EDGE_LEVEL = 0.3  # the disc's edge: this share of the way from the surroundings' brightness to the centre's
SURROUNDINGS = (0.18, 0.28)  # radii (shares of the field's diameter) whose median brightness is the surroundings'


@dataclass(frozen=True)
class OpticDisc:
    """An optic disc found on a photograph, in the photograph's pixels."""

    row: float
    col: float
    diameter: float
    prominence: float  # mean brightness inside the disc over that of a ring one to two radii outside it

    def degrees(self, fov: np.ndarray, fov_degrees: float) -> float:
        """The disc's diameter in degrees of visual angle, for a camera of `fov_degrees` across `fov`'s disc."""
        return self.diameter / fov_diameter(fov) * fov_degrees


def _masked_blur(values: np.ndarray, inside: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of `values` over `inside` only (normalised by the blurred mask), zero outside."""
    weight = ndi.gaussian_filter(inside.astype(np.float64), sigma)
    blurred = ndi.gaussian_filter(np.where(inside, values, 0).astype(np.float64), sigma)
    return np.where(inside, blurred / np.maximum(weight, 1e-6), 0)


def _shrink(planes: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Area-averaged resize of (H,W) planes (any numeric or bool type) to float32 (N,*shape); planes over twice k
    times that size are first shrunk k-fold by block means (exact, and much faster on a 4752x3168 photograph)."""
    k = min(planes[0].shape[0] // shape[0], planes[0].shape[1] // shape[1]) // 2
    planes = [plane.view(np.uint8) if plane.dtype == bool else plane for plane in planes]
    stack = np.stack([block_mean(plane, k) if k > 1 else plane.astype(np.float32) for plane in planes])
    t = torch.from_numpy(stack)[None]
    return F.interpolate(t, size=shape, mode="bilinear", antialias=True, align_corners=False)[0].numpy()


def _standard(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """`values` standardised over `inside`."""
    seen = values[inside]
    return (values - seen.mean()) / (seen.std() + 1e-9)


def ring_profile(values: np.ndarray, inside: np.ndarray, centre: tuple[float, float], radii: np.ndarray
                 ) -> np.ndarray:
    """The mean of `values` over `inside` in one-pixel rings about `centre` at each of `radii` (NaN for an empty
    ring)."""
    rows, cols = np.indices(values.shape)
    distance = np.hypot(rows - centre[0], cols - centre[1])
    ring = np.rint(distance).astype(int)
    top = int(radii.max()) + 1
    keep = inside & (ring <= top)
    sums = np.bincount(ring[keep], values[keep], top + 1)
    counts = np.bincount(ring[keep], minlength=top + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums / counts)[radii.astype(int)]


def edge_radius(relative: np.ndarray, inside: np.ndarray, centre: tuple[int, int], grid: float) -> float:
    """The disc's radius in grid pixels: the first ring about `centre` whose mean brightness falls below EDGE_LEVEL
    of the way from the surroundings' to the centre's, within DIAMETER_RANGE (its upper end when none does)."""
    radii = np.arange(1, math.ceil(SURROUNDINGS[1] * grid) + 1)
    profile = ring_profile(relative, inside, centre, radii)
    profile = np.nan_to_num(profile, nan=np.nanmin(profile))
    around = profile[radii >= SURROUNDINGS[0] * grid]
    level = np.median(around) * (1 - EDGE_LEVEL) + profile[:3].mean() * EDGE_LEVEL
    smallest, largest = DIAMETER_RANGE[0] / 2 * grid, DIAMETER_RANGE[1] / 2 * grid
    edge = np.flatnonzero((profile < level) & (radii >= smallest) & (radii <= largest))
    return float(radii[edge[0]]) if edge.size else largest


def find_optic_disc(image: np.ndarray, fov: np.ndarray, vessels: np.ndarray | None = None) -> OpticDisc | None:
    """The optic disc of a uint8 RGB photograph within its field of view ((H,W) bool), helped by the vessel
    probability or mask ((H,W), in [0,1]) where given; None when the field of view is under GRID/4 px across."""
    across = fov_diameter(fov)
    if across < GRID / 4:  # no field of view, or too little of one to search
        return None
    factor = GRID / across
    shape = (max(1, round(fov.shape[0] * factor)), max(1, round(fov.shape[1] * factor)))
    planes = [image[..., 0], image[..., 1], fov] + ([vessels] if vessels is not None else [])
    small = _shrink(planes, shape)
    small[:2] /= 255
    inside = small[2] > 0.5
    grid = fov_diameter(inside)
    grey = closing((small[0] + small[1]) / 2, disk(max(1, round(VESSEL_CLOSING * grid))))
    relative = grey / np.maximum(_masked_blur(grey, inside, BACKGROUND_SIGMA * grid), 1e-3)
    score = _standard(_masked_blur(relative, inside, BRIGHT_SIGMA * grid), inside)
    if vessels is not None and np.ptp(small[3][inside]) > VESSELS_SEEN:  # none found: nothing converges
        score = score + _standard(_masked_blur(small[3], inside, VESSEL_SIGMA * grid), inside)
    search = ndi.binary_erosion(inside, iterations=max(1, round(DIAMETER_RANGE[0] / 2 * grid)))
    search = search if search.any() else inside
    row, col = np.unravel_index(np.argmax(np.where(search, score, -np.inf)), score.shape)
    radius = edge_radius(relative, inside, (row, col), grid)
    inner = ring_profile(relative, inside, (row, col), np.arange(0, max(2, round(radius))))
    outer = ring_profile(relative, inside, (row, col), np.arange(round(1.5 * radius), round(2.5 * radius) + 1))
    prominence = float(np.nanmean(inner) / np.nanmean(outer)) if np.isfinite(outer).any() else float("nan")
    back = (fov.shape[0] / shape[0], fov.shape[1] / shape[1])
    return OpticDisc(row=float((row + 0.5) * back[0] - 0.5), col=float((col + 0.5) * back[1] - 0.5),
                     diameter=2 * radius * across / grid, prominence=prominence)
