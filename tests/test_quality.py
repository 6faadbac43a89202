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
    return training_ranges(list_pairs(synthetic_source, "train")[:4 * RANGE_EYES])


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
    assert set(ranges) == {"brightness", "contrast", "sharpness", "fov_fraction", "vessel_density"}
    assert all(low <= high for low, high in ranges.values())


def test_predict_reports_its_doubts(ranges, checkpoint, tmp_path):
    from retina.predict.predict import predict_files
    dark = tmp_path / "dark.png"
    Image.fromarray((fundus(3)[0] * 0.3).astype(np.uint8)).save(dark)
    [measures] = predict_files([dark], [checkpoint], tmp_path / "out", 0.5, ranges=ranges)
    assert any("darker" in f for f in measures["quality"]["flags"])
    saved = json.loads((tmp_path / "out" / "dark_measures.json").read_text())
    assert saved["quality"] == measures["quality"]
    [plain] = predict_files([dark], [checkpoint], tmp_path / "out2", 0.5)
    assert plain["quality"]["flags"] == ["no training ranges to compare with"]
