"""The widest vessels' calibre as a share of the field of view: the ruler predict checks its pixel size with."""
from __future__ import annotations

import math

import numpy as np
import pytest

from retina.measure.vessel_scale import widest_calibre
from tests.phantoms import tube


def _eye(size: int, widths: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """A round field of view filling the image, crossed by straight tubes of the given widths (px)."""
    yy, xx = np.mgrid[:size, :size]
    fov = np.hypot(yy - size / 2, xx - size / 2) <= size * 0.47
    vessels = np.zeros((size, size), bool)
    for k, width in enumerate(widths):
        vessels |= tube(10 + 50 * k, width, size * 0.6, size)
    return vessels & fov, fov


def test_the_widest_vessel_over_the_field_of_view():
    vessels, fov = _eye(512, (3, 3, 9))
    diameter = 2 * math.sqrt(fov.sum() / math.pi)
    # the 90th percentile of the calibre along the skeleton falls on the 9 px vessel, a third of the skeleton
    assert widest_calibre(vessels.astype(np.float32), fov) == pytest.approx(9 / diameter, rel=0.15)


def test_the_same_eye_at_another_resolution_gives_the_same_share():
    small = widest_calibre(*_eye(512, (3, 9)))
    large = widest_calibre(*_eye(1536, (9, 27)))  # three times the pixels: measured on the same grid
    assert large == pytest.approx(small, rel=0.1)


def test_a_narrower_field_of_view_shows_wider_vessels():
    """Cropping the central half of the eye (a camera of half the field of view) doubles the vessels' share."""
    vessels, fov = _eye(1024, (6, 18))
    half = vessels[256:768, 256:768]
    yy, xx = np.mgrid[:512, :512]
    inner = np.hypot(yy - 256, xx - 256) <= 512 * 0.47
    assert widest_calibre(half & inner, inner) == pytest.approx(2 * widest_calibre(vessels, fov), rel=0.2)


def test_no_vessel_or_no_field_of_view_is_undefined():
    vessels, fov = _eye(256, (5,))
    assert math.isnan(widest_calibre(np.zeros_like(vessels), fov))
    assert math.isnan(widest_calibre(vessels, np.zeros_like(fov)))
