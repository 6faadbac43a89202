"""Vessel measurements on synthetic masks with known answers."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.draw import line

from retina.morphology import vessel_measures


def test_straight_vessel_of_known_length_and_width():
    mask = np.zeros((128, 160), bool)
    mask[60:65, 20:140] = True  # 120 px long, 5 px wide
    m = vessel_measures(mask)
    assert m["length"] == pytest.approx(120, abs=6)  # the skeleton stops about half a width from each end
    assert m["calibre_median"] == pytest.approx(5, abs=0.01)
    assert m["branch_points"] == 0 and m["end_points"] == 2
    assert m["tortuosity_mean"] == pytest.approx(1.0, abs=0.01)
    assert m["density"] == pytest.approx(600 / (128 * 160))


def test_half_circle_has_tortuosity_pi_over_2():
    yy, xx = np.mgrid[:256, :256]
    mask = (np.abs(np.hypot(yy - 128, xx - 128) - 80) <= 1.5) & (yy < 128)
    m = vessel_measures(mask)
    assert m["segments"] == 1
    assert m["tortuosity_mean"] == pytest.approx(math.pi / 2, rel=0.05)
    assert m["length"] == pytest.approx(math.pi * 80, rel=0.05)


def test_y_junction_has_one_branch_and_three_ends():
    mask = np.zeros((200, 200), bool)
    for end in ((20, 100), (170, 40), (170, 160)):
        rr, cc = line(100, 100, *end)
        mask[rr, cc] = True
    m = vessel_measures(ndi.binary_dilation(mask))
    assert m["branch_points"] == 1 and m["end_points"] == 3 and m["segments"] == 3


def test_field_of_view_limits_the_measurement():
    mask = np.zeros((100, 100), bool)
    mask[50, 10:90] = True
    fov = np.zeros_like(mask)
    fov[:, :50] = True
    assert vessel_measures(mask, fov)["length"] == pytest.approx(vessel_measures(mask)["length"] / 2, abs=2)


def test_empty_mask_gives_zero_length_and_undefined_calibre():
    m = vessel_measures(np.zeros((50, 50), bool))
    assert m["length"] == 0 and m["branch_points"] == 0 and math.isnan(m["calibre_mean"])
