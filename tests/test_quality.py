"""When to doubt a prediction: photographs unlike the training set are flagged, ones like it are not."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage as ndi

from retina.data.dataset import list_pairs
from retina.predict.quality import photo_features, quality_flags, training_ranges
from tests.synthetic import fundus


RANGE_EYES = 3  # the ranges come from the synthetic set's first 3 training eyes (x4 stored copies); eye 3 is new


@pytest.fixture(scope="module")
def ranges(synthetic_source):
    return training_ranges(list_pairs(synthetic_source, "train")[:4 * RANGE_EYES], 45, 288)


def test_a_photograph_like_the_training_set_but_of_another_eye_raises_no_doubt(ranges, synthetic_source):
    held_out = list_pairs(synthetic_source, "train")[4 * RANGE_EYES:]  # the fourth eye's stored copies
    assert len(held_out) == 4
    for pair in held_out:
        image = np.asarray(Image.open(pair.image))
        assert quality_flags(photo_features(image), ranges) == [], pair.image


@pytest.mark.parametrize("change, word", [
    (lambda img: (img * 0.3).astype(np.uint8), "darker"),
    (lambda img: ndi.gaussian_filter(img, sigma=(4, 4, 0)), "blurrier"),
    (lambda img: np.zeros_like(img), "field of view not found"),
])
def test_a_photograph_unlike_the_training_set_is_flagged(ranges, change, word):
    image, _ = fundus(2)
    flags = quality_flags(photo_features(change(image)), ranges)
    assert any(word in f for f in flags), flags


def test_vessel_density_outside_the_training_range_is_flagged(ranges):
    features = {**photo_features(fundus(2)[0]), "vessel_density": ranges["vessel_density"][1] * 3}
    assert any("more vessels found" in f for f in quality_flags(features, ranges))


def test_training_ranges_hold_every_feature(ranges):
    assert set(ranges) == {"brightness", "contrast", "sharpness", "fov_fraction", "vessel_density",
                           "widest_vessel_um"}
    assert all(low <= high for low, high in ranges.values())
    assert 20 < ranges["widest_vessel_um"][0] <= ranges["widest_vessel_um"][1] < 400  # micrometres, of an eye


def test_a_pixel_size_that_makes_the_widest_vessels_implausible_is_flagged_and_untrusted(ranges, checkpoint,
                                                                                          tmp_path):
    """Given a pixel size three times too large, the widest vessels measure three times wider than at the right one:
    beyond the training range, flagged, and the scale marked untrusted; with no pixel size nothing is checked."""
    from retina.predict.predict import predict_files
    photo = tmp_path / "eye.png"
    Image.fromarray(fundus(3)[0]).save(photo)
    threshold = 1e-6  # the barely trained model's vessels: its whole field of view, a ruler all the same
    [right] = predict_files([photo], [checkpoint], tmp_path / "a", threshold, ranges=ranges, fov_degrees=45)
    measured = right["quality"]["features"]["widest_vessel_um"]
    around = {**ranges, "widest_vessel_um": [measured * 0.9, measured * 1.1]}
    [again] = predict_files([photo], [checkpoint], tmp_path / "b", threshold, ranges=around, fov_degrees=45)
    assert again["scale"]["trusted"] is True
    assert not any("widest vessels" in f for f in again["quality"]["flags"])
    um = right["scale"]["um_per_pixel"]
    [wrong] = predict_files([photo], [checkpoint], tmp_path / "c", threshold, ranges=around, um_per_pixel=3 * um)
    assert wrong["quality"]["features"]["widest_vessel_um"] == pytest.approx(3 * measured)
    assert wrong["scale"]["trusted"] is False
    assert any("wider widest vessels" in f and "--fov-degrees" in f for f in wrong["quality"]["flags"])
    [unchecked] = predict_files([photo], [checkpoint], tmp_path / "d", threshold, ranges=around)  # no pixel size
    assert unchecked["scale"]["trusted"] is None and "widest_vessel_um" not in unchecked["quality"]["features"]
