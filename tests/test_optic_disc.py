"""The optic disc finder (retina.measure.optic_disc) on photographs whose disc is known."""
from __future__ import annotations

import numpy as np
import pytest

from retina.measure.morphology import fov_diameter
from retina.measure.optic_disc import find_optic_disc
from tests.synthetic import disc_photograph, disc_position


@pytest.mark.parametrize("centre, share", [((0.5, 0.25), 0.14), ((0.35, 0.7), 0.14), ((0.5, 0.5), 0.22)])
def test_the_disc_is_found_where_and_as_wide_as_it_is(centre, share):
    image, fov, vessels = disc_photograph(centre=centre, disc=share)
    row, col, across = disc_position(image.shape[0], centre)
    for given in (vessels, None):  # with the vessels' help and from the photograph alone
        disc = find_optic_disc(image, fov, given)
        assert np.hypot(disc.row - row, disc.col - col) < 0.02 * across
        assert disc.diameter == pytest.approx(share * across, rel=0.15)
        assert disc.prominence > 1.2


def test_the_disc_is_found_alike_at_any_resolution():
    small = find_optic_disc(*disc_photograph(height=240))
    large = find_optic_disc(*disc_photograph(height=960))
    assert large.row / 960 == pytest.approx(small.row / 240, abs=0.01)
    assert large.col / 960 == pytest.approx(small.col / 240, abs=0.01)
    assert large.diameter / 960 == pytest.approx(small.diameter / 240, rel=0.1)


def test_converging_vessels_tell_the_disc_from_a_brighter_lesion():
    image, fov, vessels = disc_photograph(centre=(0.5, 0.25), lesion=(0.3, 0.72))
    row, col, across = disc_position(image.shape[0], (0.5, 0.25))
    disc = find_optic_disc(image, fov, vessels)
    assert np.hypot(disc.row - row, disc.col - col) < 0.02 * across
    fooled = find_optic_disc(image, fov)  # brightness alone takes the lesion: the vessels are what decide
    assert np.hypot(fooled.row - row, fooled.col - col) > 0.2 * across


def test_the_diameter_in_degrees_is_its_share_of_the_field_of_view():
    image, fov, vessels = disc_photograph(disc=0.13)
    disc = find_optic_disc(image, fov, vessels)
    assert disc.degrees(fov, 45) == pytest.approx(disc.diameter / fov_diameter(fov) * 45)
    assert disc.degrees(fov, 45) == pytest.approx(0.13 * 45, rel=0.15)


def test_no_field_of_view_no_disc():
    image, fov, _ = disc_photograph()
    assert find_optic_disc(image, np.zeros_like(fov)) is None


def test_a_vessel_map_with_no_vessels_is_no_help_and_no_harm():
    image, fov, _ = disc_photograph(centre=(0.4, 0.7))
    assert find_optic_disc(image, fov, np.zeros(fov.shape, np.float32)) == find_optic_disc(image, fov)
