"""`predict` on a user's photographs: odd sizes and formats, outputs at the original size, clear errors."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from retina.config import ModelSpec, model_spec
from retina.errors import ConfigError, DataError, TrainingError
from retina.train.checkpoint import save_checkpoint
from retina.train.model import UNet
from retina.measure.morphology import vessel_measures
from retina.predict.predict import predict_files
from tests.conftest import ROOT
from tests.synthetic import disc_photograph, disc_position, fundus

@pytest.fixture
def photo(tmp_path) -> Path:
    """A synthetic fundus photograph of an odd, non-square size, as JPEG."""
    img, _ = fundus(3)
    path = tmp_path / "eye.jpg"
    Image.fromarray(img).resize((317, 300)).save(path)
    return path


def test_predict_odd_size_writes_maps_at_original_size(checkpoint, photo, tmp_path):
    [measures] = predict_files([photo], [checkpoint], tmp_path / "out", threshold=0.5)
    for kind in ("probability", "vessels", "overlay"):
        out = Image.open(tmp_path / "out" / f"eye_{kind}.png")
        assert out.size == (317, 300)
    vessels = np.asarray(Image.open(tmp_path / "out" / "eye_vessels.png"))
    assert set(np.unique(vessels)) <= {0, 255}
    prob = np.asarray(Image.open(tmp_path / "out" / "eye_probability.png"))
    assert prob[0, 0] == 0  # the black corner is outside the field of view
    saved = json.loads((tmp_path / "out" / "eye_measures.json").read_text())
    assert saved["size"] == [300, 317] and saved["units"]["length"] == "px" and saved == measures
    assert 0 <= saved["density"] <= 1
    segments = pd.read_csv(tmp_path / "out" / "eye_segments.csv")
    assert len(segments) == saved["segments"]
    again = vessel_measures(vessels > 127).summary  # the measures describe the mask written beside them
    for key in ("length", "segments", "junctions", "end_points", "calibre_mean"):
        assert (math.nan if saved[key] is None else saved[key]) == pytest.approx(again[key], rel=1e-6, nan_ok=True)


def test_predict_averages_the_seeds_probabilities(checkpoint, photo, tmp_path):
    spec = ModelSpec("tiny", "relu", 64, "se", width=4, depth=2, se_reduction=2)
    torch.manual_seed(1)
    weights = UNet.from_spec(spec).state_dict()
    weights["head.bias"] += 1.0  # untrained nets of two seeds can predict nearly alike: make this one clearly differ
    other = tmp_path / "models" / "tiny-seed1" / "best.pt"
    save_checkpoint(other, weights, spec, epoch=1, seed=1)
    maps = {}
    for name, checkpoints in (("a", [checkpoint]), ("b", [other]), ("mean", [checkpoint, other])):
        [measures] = predict_files([photo], checkpoints, tmp_path / name, threshold=0.5)
        maps[name] = np.asarray(Image.open(tmp_path / name / "eye_probability.png")).astype(float)
    assert measures["seeds"] == [None, 1] and measures["model"] == "tiny"
    assert np.abs(maps["a"] - maps["b"]).max() > 10
    assert np.abs(maps["mean"] - (maps["a"] + maps["b"]) / 2).max() <= 1  # 8-bit rounding


def test_predict_averages_mirror_images_and_input_sizes_when_asked(photo, tmp_path):
    trained = ROOT / "models" / "camera_robust" / "seed0" / "best.pt"  # an untrained net's output is nearly flat
    [plain] = predict_files([photo], [trained], tmp_path / "a", threshold=0.5)
    [averaged] = predict_files([photo], [trained], tmp_path / "b", threshold=0.4, flips=("none", "left-right"),
                               scales=(0.5, 1.0))
    assert plain["averaging"] == {"flips": ["none"], "scales": [1.0], "input_sides": [512]}
    assert averaged["averaging"]["input_sides"] == [256, 512] and averaged["threshold"] == 0.4
    maps = [np.asarray(Image.open(tmp_path / k / "eye_probability.png")).astype(float) for k in ("a", "b")]
    assert np.abs(maps[0] - maps[1]).max() > 5 and maps[1].shape == (300, 317)


def test_predict_finds_the_optic_disc_and_measures_it_in_micrometres(tmp_path):
    image, fov, _ = disc_photograph(height=400, centre=(0.45, 0.3), disc=0.14)
    Image.fromarray(image).save(tmp_path / "eye.png")
    trained = ROOT / "models" / "camera_robust" / "seed0" / "best.pt"
    [measures] = predict_files([tmp_path / "eye.png"], [trained], tmp_path / "out", threshold=0.5, fov_degrees=45)
    disc, (row, col, across) = measures["optic_disc"], disc_position(400, (0.45, 0.3))
    assert np.hypot(disc["row"] - row, disc["col"] - col) < 0.02 * across
    assert disc["diameter_px"] == pytest.approx(0.14 * across, rel=0.15)
    assert disc["diameter_um"] == pytest.approx(disc["diameter_px"] * measures["scale"]["um_per_pixel"], abs=1)


def test_checkpoints_of_different_models_are_not_averaged(checkpoint, photo, tmp_path):
    spec = ModelSpec("other", "relu", 64, "none", width=4, depth=2, se_reduction=2)
    other = tmp_path / "models" / "other" / "best.pt"
    save_checkpoint(other, UNet.from_spec(spec).state_dict(), spec, epoch=1)
    with pytest.raises(ConfigError, match="checkpoints of different models cannot be averaged"):
        predict_files([photo], [checkpoint, other], tmp_path / "out", 0.5)
    assert not (tmp_path / "out").exists()


def test_predict_gives_micrometres_for_a_pixel_size(checkpoint, photo, tmp_path):
    [plain] = predict_files([photo], [checkpoint], tmp_path / "a", threshold=0.5)
    [scaled] = predict_files([photo], [checkpoint], tmp_path / "b", threshold=0.5, um_per_pixel=12.5)
    assert scaled["length_mm"] == pytest.approx(plain["length"] * 12.5 / 1000)
    assert "length_mm" not in plain
    assert "length_um" in pd.read_csv(tmp_path / "b" / "eye_segments.csv").columns


def test_predict_tiff_and_rgba_give_the_rgb_png_s_probabilities(checkpoint, tmp_path):
    img, _ = fundus(4)
    Image.fromarray(img).save(tmp_path / "rgb.png")
    Image.fromarray(img).save(tmp_path / "a.tif")
    Image.fromarray(img).convert("RGBA").save(tmp_path / "b.png")
    results = predict_files([tmp_path / "rgb.png", tmp_path / "a.tif", tmp_path / "b.png"], [checkpoint],
                            tmp_path / "out", 0.5)
    assert [r["size"] for r in results] == [[512, 512]] * 3
    reference = np.asarray(Image.open(tmp_path / "out" / "rgb_probability.png"))
    assert reference.std() > 0  # a real map, not a constant one that any input would match
    for name in ("a", "b"):
        assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / f"{name}_probability.png")), reference)
        assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / f"{name}_vessels.png")),
                              np.asarray(Image.open(tmp_path / "out" / "rgb_vessels.png")))


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("not an image"), "not a readable image"),
    (lambda p: Image.fromarray(np.zeros((100, 100), np.uint8)).save(p), "greyscale"),
    (lambda p: Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(p), "too small"),
])
def test_bad_images_are_refused_before_anything_is_written(checkpoint, photo, tmp_path, make, message):
    bad = tmp_path / "bad.png"
    make(bad)
    with pytest.raises(DataError, match=message) as err:
        predict_files([photo, bad], [checkpoint], tmp_path / "out", 0.5)
    assert str(bad) in str(err.value) and not (tmp_path / "out").exists()


def test_missing_model_and_unknown_name(params, photo, tmp_path):
    with pytest.raises(TrainingError, match="no trained model"):
        predict_files([photo], [tmp_path / "models" / "silu256" / "best.pt"], tmp_path / "out", 0.5)
    with pytest.raises(ConfigError, match="models in params.yaml: baseline, silu256, silu256_se, camera_robust"):
        model_spec(params, "unet3000")


def test_command_line_error_is_one_clear_line(photo, tmp_path):
    result = subprocess.run([sys.executable, "-m", "tools.predict", str(photo), "--model", "unet3000",
                             "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: unknown model 'unet3000'; models in params.yaml: "
                                     "baseline, silu256, silu256_se, camera_robust")


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_a_truncated_checkpoint_is_one_line_naming_it_and_nothing_is_written(checkpoint, photo, tmp_path, keep):
    broken = tmp_path / "models" / "baseline" / "seed0" / "best.pt"
    broken.parent.mkdir(parents=True)
    whole = checkpoint.read_bytes()
    broken.write_bytes(whole[: int(len(whole) * keep)])
    result = subprocess.run([sys.executable, "-m", "tools.predict", str(photo), "--model", "baseline", "--seed", "0",
                             "--models", str(tmp_path / "models"), "--out", str(tmp_path / "out")], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {broken}: not a readable checkpoint"), result.stderr
    assert not (tmp_path / "out").exists()


def test_the_field_of_view_sets_the_units_and_the_json_says_which_scale_was_used(checkpoint, photo, tmp_path):
    [by_fov] = predict_files([photo], [checkpoint], tmp_path / "a", 0.5, fov_degrees=30, um_per_degree=288)
    [given] = predict_files([photo], [checkpoint], tmp_path / "b", 0.5, um_per_pixel=12.5, fov_degrees=30)
    [none] = predict_files([photo], [checkpoint], tmp_path / "c", 0.5)
    fov = np.asarray(Image.open(tmp_path / "a" / "eye_probability.png")) > 0  # predict keeps its FOV only
    diameter = 2 * math.sqrt(fov.sum() / math.pi)
    assert by_fov["scale"]["fov_degrees"] == 30
    assert by_fov["scale"]["um_per_pixel"] == pytest.approx(30 * 288 / diameter, rel=0.02)
    assert given["scale"] == {"um_per_pixel": 12.5, "from": "the pixel size given", "fov_degrees": None,
                              "measured_at": "the photograph's size",  # a small photograph is measured as it is
                              "trusted": None}  # no training ranges to check the widest vessels against
    assert none["scale"]["um_per_pixel"] is None
    saved = json.loads((tmp_path / "a" / "eye_measures.json").read_text())
    assert saved["scale"] == by_fov["scale"]


@pytest.mark.parametrize("option, value, message", [
    ("--fov-degrees", "500", "--fov-degrees: '500' is not a plausible field of view in degrees (10 to 200)"),
    ("--fov-degrees", "inf", "--fov-degrees: must be a finite number > 0, got 'inf'"),
    ("--um-per-pixel", "1000", "--um-per-pixel: '1000' is not a plausible pixel size in micrometres (0.5 to 100)"),
])
def test_an_implausible_scale_is_one_line_naming_the_option_and_nothing_is_written(photo, tmp_path, option, value,
                                                                                    message):
    result = subprocess.run([sys.executable, "-m", "tools.predict", str(photo), option, value, "--out",
                             str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].endswith(message), result.stderr
    assert not (tmp_path / "out").exists()
