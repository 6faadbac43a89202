"""params.yaml validation: every bad value is one clear message naming the key and what is allowed."""
from __future__ import annotations

import copy

import pytest
import yaml

from retina.config import BASELINE, ConfigError, load_params, parse_params
from tests.conftest import ROOT

RAW = yaml.safe_load((ROOT / "params.yaml").read_text())


def changed(path: str, value) -> dict:
    raw = copy.deepcopy(RAW)
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    node[last] = value
    return raw


def test_project_params_resolve_the_study_models_and_the_robust_one():
    params = load_params(ROOT / "params.yaml")
    assert list(params.models) == [BASELINE, "silu256", "silu256_se", "camera_robust"]
    base, se, robust = params.models[BASELINE], params.models["silu256_se"], params.models["camera_robust"]
    assert (base.activation, base.image_size, base.attention, base.input) == ("relu", 512, "none", "raw")
    assert (se.activation, se.image_size, se.attention, se.input) == ("silu", 256, "se", "raw")
    assert not (base.camera_augment or se.camera_augment or params.models["silu256"].camera_augment)
    assert (robust.input, robust.camera_augment, robust.image_size) == ("clahe", True, 512)
    assert se.width == base.width and params.inputs == [(256, "raw"), (512, "clahe"), (512, "raw")]
    assert params.predict.model == "camera_robust" and 0 < params.predict.threshold < 1


@pytest.mark.parametrize("path, value, message", [
    ("activation", "swish", "'activation' is 'swish'; allowed: relu, silu, gelu, leaky_relu"),
    ("variants.silu256.activation", "tanh", "'variants.silu256.activation' is 'tanh'"),
    ("attention", "cbam", "'attention' is 'cbam'; allowed: none, se"),
    ("image_size", 500, "'image_size' is 500, which a U-Net of depth 4 cannot take"),
    ("variants.silu256_se.image_size", 100, "'variants.silu256_se.image_size' is 100"),
    ("variants.camera_robust.input", "hdr", "'variants.camera_robust.input' is 'hdr'; allowed: raw, framed, flat"),
    ("variants.camera_robust.camera_augment", "yes", "'variants.camera_robust.camera_augment' must be true or false"),
    ("predict.model", "unet3000", "'predict.model' is 'unet3000'; models: baseline, silu256"),
    ("predict.flips", ["none", "sideways"], "'predict.flips' must list distinct mirror images of none, left-right"),
    ("predict.flips", ["none", "none"], "'predict.flips' must list distinct"),
    ("predict.scales", [1.0, 10], "'predict.scales' must list input scales between 0.25 and 4; got [1.0, 10]"),
    ("predict.scales", [], "'predict.scales' must list input scales"),
    ("predict.threshold", 1, "'predict.threshold' must be between 0 and 1"),
    ("train.default_epochs", 0, "'train.default_epochs' must be > 0"),
    ("train.batch_size", -2, "'train.batch_size' must be > 0"),
    ("train.lr", 0, "'train.lr' must be > 0"),
    ("train.loss", "focal", "'train.loss' is 'focal'; allowed: bce, dice, bce+dice"),
    ("train.precision", "fp16", "'train.precision' is 'fp16'"),
    ("train.crop", 100, "'train.crop' is 100"),
    ("train.warmup", 1, "'train.warmup' is 1.0; allowed: a fraction of the steps"),
    ("train.warmup", -0.1, "'train.warmup' is -0.1"),
    ("train.optimizer", "sgd", "'train.optimizer' is 'sgd'; allowed: adam, adamw"),
    ("train.weight_decay", 0.01, "'train.weight_decay' is 0.01 with optimizer 'adam'; allowed: 0, or a positive"),
    ("data.val_eyes", 0, "'data.val_eyes' must be > 0"),
    ("data.val_eyes", 20, "'data.val_eyes' is 20; allowed: 1 to 19"),
    ("evaluate.threshold", 1.5, "'evaluate.threshold' must be between 0 and 1"),
    ("train.default_epochs", "ten", "'train.default_epochs' must be an integer"),
    ("train.val_every", 1000, f"'train.val_every' is 1000, more than the {RAW['train']['default_epochs']} epochs of baseline"),
    ("variants.camera_robust.epochs", 1.5, "'variants.camera_robust.epochs' must be an integer"),
    ("variants.camera_robust.epochs", 1, "'train.val_every' is 2, more than the 1 epochs of camera_robust"),
    ("train.augment", "yes", "'train.augment' must be true or false"),
    ("training_seeds", [], "'training_seeds' must be a non-empty list of integers"),
    ("training_seeds", [0, 0], "'training_seeds' lists a seed twice"),
    ("training_seeds", 3, "'training_seeds' must be a non-empty list of integers"),
])
def test_bad_values_are_refused_with_key_and_choices(path, value, message):
    with pytest.raises(ConfigError) as err:
        parse_params(changed(path, value))
    assert message in str(err.value)


def test_missing_key_is_named():
    raw = copy.deepcopy(RAW)
    del raw["train"]["lr"]
    with pytest.raises(ConfigError, match="missing key 'train.lr'"):
        parse_params(raw)


def test_unreadable_params_file(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)


@pytest.mark.parametrize("path, value, message", [
    ("training_sedes", [0], "unknown key 'training_sedes'; did you mean 'training_seeds'?"),
    ("train.default_epoch", 5, "unknown key 'train.default_epoch'; did you mean 'train.default_epochs'?"),
    ("model.widht", 8, "unknown key 'model.widht'; did you mean 'model.width'?"),
    ("variants.silu256.atention", "se", "unknown key 'variants.silu256.atention'; did you mean "
                                        "'variants.silu256.attention'?"),
    ("evaluate.zzz", 1, "unknown key 'evaluate.zzz'; valid keys: threshold, bootstrap"),
    ("morphology.spur", 1, "unknown key 'morphology.spur'; did you mean 'morphology.spur_ratio'?"),
])
def test_unknown_keys_are_refused_naming_the_closest_valid_key(path, value, message):
    with pytest.raises(ConfigError) as err:
        parse_params(changed(path, value))
    assert message in str(err.value)


def test_train_settings_carry_the_seed_and_the_model_s_epochs_and_refuse_an_unlisted_seed():
    params = load_params(ROOT / "params.yaml")
    assert [params.train_settings(BASELINE, s).seed for s in params.training_seeds] == list(params.training_seeds)
    assert params.train_settings(BASELINE, params.training_seeds[0]).epochs == RAW["train"]["default_epochs"]
    own = parse_params(changed("variants.silu256.epochs", 7))
    assert own.train_settings("silu256", 0).epochs == 7
    raw = copy.deepcopy(RAW)
    raw["variants"]["silu256_se"].pop("epochs", None)  # a variant without its own epochs trains for train.default_epochs
    assert parse_params(raw).train_settings("silu256_se", 0).epochs == RAW["train"]["default_epochs"]
    with pytest.raises(ConfigError, match="seed 99 is not in params.yaml 'training_seeds'"):
        params.train_settings(BASELINE, 99)


@pytest.mark.parametrize("key, value", [("spur_ratio", -1), ("fov_degrees", "wide"), ("um_per_degree", 0)])
def test_morphology_settings_are_validated(key, value):
    with pytest.raises(ConfigError, match=f"'morphology.{key}' must be"):
        parse_params(changed(f"morphology.{key}", value))
    assert parse_params(RAW).morphology.spur_ratio == RAW["morphology"]["spur_ratio"]


@pytest.mark.parametrize("path", ["train.lr", "train.warmup", "morphology.spur_ratio", "morphology.fov_degrees",
                                  "morphology.um_per_degree", "evaluate.threshold"])
@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf"])
def test_non_finite_numbers_are_refused_naming_the_key(path, text):
    value = yaml.safe_load(text)  # what YAML makes of `.nan` / `.inf` in params.yaml: a float, not a string
    with pytest.raises(ConfigError, match=f"'{path}' must be a finite number"):
        parse_params(changed(path, value))


@pytest.mark.parametrize("path, value, message", [
    ("morphology.fov_degrees", 500, "'morphology.fov_degrees' is 500; a fundus camera's field of view is 10 to 200"),
    ("other_cameras.stare.fov_degrees", 2, "'other_cameras.stare.fov_degrees' is 2; a fundus camera's field of view"),
    ("other_cameras.stare.path", "", "'other_cameras.stare.path' must be a folder"),
    ("other_cameras.stare", ["../stare"], "'other_cameras.stare' must be a mapping of path, fov_degrees"),
    ("other_cameras.stare.fov_degree", 35, "unknown key 'other_cameras.stare.fov_degree'; did you mean"),
])
def test_other_camera_sets_and_fields_of_view_are_validated(path, value, message):
    with pytest.raises(ConfigError, match=message.replace("(", "\\(")):
        parse_params(changed(path, value))
    sets = parse_params(RAW).other_cameras
    assert list(sets) == list(RAW["other_cameras"]) and sets["stare"].fov_degrees == 35
