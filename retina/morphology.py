"""Vessel-tree measurements from a binary vessel mask: length, density, calibre, branching and tortuosity.

All lengths and widths are in pixels of the mask given (512x512 for the study's test set).
The skeleton is 8-connected; its length counts each link between neighbouring skeleton pixels once, 1 for a
horizontal or vertical link and sqrt(2) for a diagonal one.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

MEASURES = ("length", "density", "calibre_mean", "calibre_median", "branch_points", "end_points", "segments",
            "tortuosity_mean", "tortuosity_median")
MIN_CHORD = 10.0  # segments whose end points are closer than this (pixels) get no tortuosity: too short to say
_EIGHT = np.ones((3, 3), int)


def _neighbours(skeleton: np.ndarray) -> np.ndarray:
    """Number of 8-connected skeleton neighbours of each skeleton pixel (0 elsewhere)."""
    counts = ndi.convolve(skeleton.astype(int), _EIGHT, mode="constant") - 1
    return np.where(skeleton, counts, 0)


def skeleton_length(skeleton: np.ndarray) -> float:
    """Length of an 8-connected skeleton: orthogonal links count 1, diagonal links sqrt(2)."""
    s = np.asarray(skeleton, bool)
    orth = np.count_nonzero(s[:, 1:] & s[:, :-1]) + np.count_nonzero(s[1:, :] & s[:-1, :])
    diag = np.count_nonzero(s[1:, 1:] & s[:-1, :-1]) + np.count_nonzero(s[1:, :-1] & s[:-1, 1:])
    return float(orth + math.sqrt(2) * diag)


def segment_tortuosities(skeleton: np.ndarray, branch: np.ndarray) -> list[float]:
    """Arc length / chord length of each skeleton segment between branch and end points."""
    segments, _ = ndi.label(skeleton & ~ndi.binary_dilation(branch, _EIGHT), structure=_EIGHT)
    result = []
    for label, box in enumerate(ndi.find_objects(segments), start=1):
        seg = np.pad(segments[box] == label, 1)
        ends = np.argwhere((_neighbours(seg) == 1))
        if len(ends) != 2:
            continue  # a closed loop or a single pixel
        chord = float(np.hypot(*(ends[0] - ends[1])))
        if chord >= MIN_CHORD:
            result.append(skeleton_length(seg) / chord)
    return result


def vessel_measures(mask: np.ndarray, fov: np.ndarray | None = None) -> dict[str, float]:
    """Morphology of a binary vessel mask (inside `fov` when given); see MEASURES."""
    mask = np.asarray(mask, bool)
    fov = np.ones(mask.shape, bool) if fov is None else np.asarray(fov, bool)
    mask = mask & fov
    skeleton = skeletonize(mask)
    neighbours = _neighbours(skeleton)
    branch = skeleton & (neighbours >= 3)
    junctions = ndi.label(branch, structure=_EIGHT)[1]  # adjacent branch pixels form one junction
    calibre = 2 * ndi.distance_transform_edt(mask)[skeleton] - 1  # diameter of a centred disc, in pixels
    tort = segment_tortuosities(skeleton, branch)
    return {
        "length": skeleton_length(skeleton),
        "density": float(mask.sum() / max(fov.sum(), 1)),
        "calibre_mean": float(calibre.mean()) if calibre.size else math.nan,
        "calibre_median": float(np.median(calibre)) if calibre.size else math.nan,
        "branch_points": float(junctions),
        "end_points": float(np.count_nonzero(skeleton & (neighbours == 1))),
        "segments": float(len(tort)),
        "tortuosity_mean": float(np.mean(tort)) if tort else math.nan,
        "tortuosity_median": float(np.median(tort)) if tort else math.nan,
    }
