"""When to doubt a prediction: how far a photograph, and the vessels found in it, fall outside the training set.

Each photograph is described at the models' scale (resized to 512x512, as the training photographs are) inside its
field of view: brightness and contrast of the green channel (where vessels show), sharpness (variance of the
Laplacian of the green channel) and the share of the image the field of view covers; the predicted vessel density
is compared too. The stage `photo_ranges` records each feature's range over the training photographs (and their
annotated vessel density); a value more than MARGIN of that range beyond it is flagged in predict's output.

The scale is checked against the eye itself: the widest vessels (the arcades beside the optic disc; see
retina/measure/vessel_scale.py) measure about the same in micrometres in every adult eye. `widest_vessel_um` is
their calibre at the pixel size the measures are given in: a photograph whose widest vessels come out narrower or
wider than any training photograph's, by more than SCALE_MARGIN, has a pixel size (field of view) that cannot be
trusted.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from retina.data.dataset import NATIVE_SIZE, Pair, verify_pair
from retina.data.images import binarise, fov_mask, resize_image
from retina.measure.vessel_scale import widest_calibre

CHECK_SIZE = NATIVE_SIZE  # the training photographs' size
MIN_FOV = 0.2  # a field of view smaller than this share of the image was not found
MARGIN = 0.1  # tolerance beyond the training range, as a fraction of its width
SCALE_MARGIN = 0.5  # the same for widest_vessel_um: one photograph's estimate varies by ~10% (the range's half-width)
#                     between eyes of one camera; at 0.5, LES-AV and STARE at their own fields of view pass and a 30°
#                     photograph taken for 45° is caught (chosen on those dev sets, after a first look at 0.1)
FEATURES = {"brightness": ("darker", "brighter"), "contrast": ("flatter", "more contrasted"),
            "sharpness": ("blurrier", "sharper"), "fov_fraction": ("smaller in frame", "larger in frame"),
            "vessel_density": ("with fewer vessels found", "with more vessels found"),
            "widest_vessel_um": ("with narrower widest vessels (check --fov-degrees or --um-per-pixel)",
                                 "with wider widest vessels (check --fov-degrees or --um-per-pixel)")}


def photo_features(image: np.ndarray) -> dict[str, float]:
    """Brightness, contrast and sharpness of an RGB uint8 photograph's green channel inside its field of view, at
    512x512, and the share of the image its field of view covers."""
    return scaled_features(*at_scale(image))


def at_scale(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An RGB uint8 photograph resized to CHECK_SIZE x CHECK_SIZE, in [0,1], and its field of view there (bool)."""
    small = resize_image(image, CHECK_SIZE)
    return small, fov_mask(small).astype(bool)


def scaled_features(small: np.ndarray, fov: np.ndarray) -> dict[str, float]:
    """photo_features of a photograph already at_scale, given its field of view there."""
    green = small[..., 1]
    inner = ndi.binary_erosion(fov, iterations=3)  # the FOV's rim is an edge, not sharpness
    inside = green[fov] if fov.any() else green.ravel()
    laplace = ndi.laplace(green.astype(np.float64))
    return {"brightness": float(inside.mean()), "contrast": float(inside.std()),
            "sharpness": float(laplace[inner].var()) if inner.any() else 0.0,
            "fov_fraction": float(fov.mean())}


def feature_ranges(features: list[dict[str, float]]) -> dict[str, list[float]]:
    """[min, max] of each feature over a set of photographs."""
    return {k: [min(f[k] for f in features), max(f[k] for f in features)] for k in features[0]}


def training_ranges(pairs: list[Pair], fov_degrees: float, um_per_degree: float) -> dict[str, list[float]]:
    """The range of every feature, and of the annotated vessel density inside the FOV and the annotated widest
    vessels' calibre in micrometres (the training camera's `fov_degrees` x `um_per_degree` across the FOV), over
    training pairs (verified to be 512x512, CHECK_SIZE)."""
    features = []
    for pair in pairs:
        image, grey = verify_pair(pair)
        vessels = binarise(grey).astype(bool)
        small, fov = at_scale(image)
        features.append({**scaled_features(small, fov), "vessel_density": float(vessels[fov].mean()),
                         "widest_vessel_um": widest_calibre(vessels, fov) * fov_degrees * um_per_degree})
    return feature_ranges(features)


def quality_flags(features: dict[str, float], ranges: dict[str, list[float]]) -> list[str]:
    """One line per feature beyond the training range by more than MARGIN (SCALE_MARGIN for widest_vessel_um) of its
    width (empty: no doubt found)."""
    flags = []
    if features.get("fov_fraction", 1.0) < MIN_FOV:
        flags.append(f"field of view not found (it covers {features['fov_fraction']:.0%} of the image)")
    for key, (low_word, high_word) in FEATURES.items():
        if beyond_range(key, features, ranges):
            low, high = ranges[key]
            value = features[key]
            word = low_word if value < low else high_word
            flags.append(f"{word} than the training photographs ({key} {value:.4g}; training {low:.4g} to {high:.4g})")
    return flags


def beyond_range(key: str, features: dict[str, float], ranges: dict[str, list[float]]) -> bool:
    """Whether feature `key` lies beyond its training range by more than its margin (False when either is absent)."""
    if key not in features or key not in ranges:
        return False
    low, high = ranges[key]
    slack = (SCALE_MARGIN if key == "widest_vessel_um" else MARGIN) * (high - low)
    return features[key] < low - slack or features[key] > high + slack
