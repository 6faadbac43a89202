"""Read params.yaml once, validate every key, and resolve each model's full settings.

Every stage gets its configuration from :func:`load_params`; nothing else reads params.yaml. A key the schema does
not know (a typo such as `training_sedes` or `train.default_epoch`) is refused naming the closest valid key, so a
misspelt setting never silently falls back to its default.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from retina.errors import ConfigError

PARAMS_FILE = Path("params.yaml")
BASELINE = "baseline"
ACTIVATIONS = ("relu", "silu", "gelu", "leaky_relu")  # retina.train.model.ACTIVATION_LAYERS builds them
ATTENTIONS = ("none", "se")
INPUTS = ("raw", "framed", "flat", "clahe")  # retina.data.model_input builds them
LOSSES = ("bce", "dice", "bce+dice")
PRECISIONS = ("auto", "bf16", "fp32")
OPTIMIZERS = ("adam", "adamw")
DEVICES = ("auto", "cpu", "cuda")
FLIPS = ("none", "left-right", "up-down", "both")  # mirror images an input may be averaged over (predict.averaging)
EYES = 20  # distinct eyes in the training set (80 images = 20 eyes x 4 stored copies)
SOURCE_ENV = "RETINA_DATA"

MODEL_KEYS = ("activation", "image_size", "attention")
# A variant may also set these: camera robustness, and its own number of epochs (None: train.default_epochs).
VARIANT_OPTIONS = {"input": "raw", "camera_augment": False, "epochs": None}
SCHEMA: dict[str, Any] = {  # every key params.yaml may hold; None: a leaf, a tuple: the keys of a section
    "training_seeds": None,
    "data": ("source", "strict", "val_eyes", "split_seed"),
    **{key: None for key in MODEL_KEYS},
    "variants": None,  # {name: {activation, image_size, attention[, VARIANT_OPTIONS]}}, checked per variant
    "predict": ("model", "flips", "scales", "threshold"),
    "model": ("width", "depth", "se_reduction"),
    "train": ("default_epochs", "batch_size", "lr", "warmup", "optimizer", "weight_decay", "loss", "augment", "crop",
              "soft_masks", "val_every", "precision", "device"),
    "evaluate": ("threshold", "bootstrap", "bootstrap_seed"),
    "morphology": ("spur_ratio", "fov_degrees", "um_per_degree", "measure_fov_px"),
    "other_cameras": None,  # {name: {path, fov_degrees}}, checked per set
}
CAMERA_SET_KEYS = ("path", "fov_degrees")
FOV_DEGREES = (10.0, 200.0)  # a fundus camera's field of view: plausible angles, in degrees
UM_PER_PIXEL = (0.5, 100.0)  # a fundus photograph's pixel size: plausible micrometres of retina per pixel


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines one model of the study."""

    name: str
    activation: str
    image_size: int
    attention: str
    width: int
    depth: int
    se_reduction: int
    input: str = "raw"  # how a photograph becomes the input (retina.data.model_input): raw is the study's
    camera_augment: bool = False  # train with photometric and geometric augmentation (retina.train.augment)


@dataclass(frozen=True)
class TrainSettings:
    """Training knobs shared by every model, and the seed of one run."""

    epochs: int
    batch_size: int
    lr: float
    loss: str
    augment: bool
    crop: int
    soft_masks: bool
    val_every: int
    precision: str
    device: str
    warmup: float = 0.0  # fraction of the steps warming up linearly to lr before the cosine decay
    optimizer: str = "adam"
    weight_decay: float = 0.0  # AdamW's decoupled weight decay
    seed: int = 0


@dataclass(frozen=True)
class MorphologySettings:
    """How vessel trees are measured (retina.measure.morphology)."""

    spur_ratio: float  # skeleton spurs shorter than this many calibres at their junction are pruned
    fov_degrees: float  # the camera's field of view: with um_per_degree, the pixel size from the FOV diameter
    um_per_degree: float
    measure_fov_px: float  # masks whose field of view is much wider are measured shrunk to about this many px across


@dataclass(frozen=True)
class PredictSettings:
    """How `retina-predict` segments a photograph by default (retina.predict.averaging)."""

    model: str  # the model whose training seeds it averages
    flips: tuple[str, ...]  # mirror images of the input averaged (names of averaging.FLIPS)
    scales: tuple[float, ...]  # input sizes averaged, relative to the model's image_size
    threshold: float  # probability above which a pixel is vessel


@dataclass(frozen=True)
class CameraSet:
    """A labelled set of photographs from another camera, scored by the cross_camera stage (never trained on)."""

    name: str
    path: Path  # a folder in the images/ labels/ [labels2/] [fov/] layout, or DRIVE's own
    fov_degrees: float  # the camera's field of view: the unit of the set's vessel measures


@dataclass(frozen=True)
class Params:
    """The validated contents of params.yaml."""

    split_seed: int  # which eyes are held out for validation
    training_seeds: tuple[int, ...]  # every model is trained once per seed
    source: str
    strict: bool
    val_eyes: int
    models: dict[str, ModelSpec]
    train: TrainSettings
    model_epochs: dict[str, int] = field(repr=False)  # read through epochs_of
    threshold: float
    bootstrap: int
    bootstrap_seed: int  # seeds the bootstrap resampling of intervals and paired tests
    morphology: MorphologySettings
    predict: PredictSettings
    other_cameras: dict[str, CameraSet] = field(default_factory=dict)
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def inputs(self) -> list[tuple[int, str]]:
        """The (input size, input kind) pairs the models use, ascending."""
        return sorted({(m.image_size, m.input) for m in self.models.values()})

    def data_source(self) -> str:
        """The data source: $RETINA_DATA when set, else data.source."""
        return os.environ.get(SOURCE_ENV) or self.source

    def epochs_of(self, model: str) -> int:
        """How many epochs one model trains: its variant's own `epochs`, or train.default_epochs."""
        return self.model_epochs[model_spec(self, model).name]

    def train_settings(self, model: str, seed: int) -> TrainSettings:
        """The shared training settings for one model (its own epochs) and one training seed."""
        if seed not in self.training_seeds:
            raise ConfigError(f"seed {seed} is not in params.yaml 'training_seeds' {list(self.training_seeds)}")
        return dataclasses.replace(self.train, seed=seed, epochs=self.epochs_of(model))


def _refuse_unknown(section: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in section:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint = f"did you mean '{where}{close[0]}'?" if close else f"valid keys: {', '.join(allowed)}"
            raise ConfigError(f"params.yaml: unknown key '{where}{key}'; {hint}")


def _get(section: dict[str, Any], key: str, where: str) -> Any:
    if not isinstance(section, dict) or key not in section:
        raise ConfigError(f"params.yaml: missing key '{where}{key}'")
    return section[key]


def _choice(value: Any, allowed: tuple[str, ...], key: str) -> str:
    if value not in allowed:
        raise ConfigError(f"params.yaml: '{key}' is {value!r}; allowed: {', '.join(allowed)}")
    return value


def _number(value: Any, key: str, kind: type, positive: bool = True) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise ConfigError(f"params.yaml: '{key}' must be {'an integer' if kind is int else 'a number'}, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"params.yaml: '{key}' must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ConfigError(f"params.yaml: '{key}' must be > 0, got {value!r}")
    return kind(value)


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"params.yaml: '{key}' must be true or false, got {value!r}")
    return value


def check_image_size(size: int, depth: int, key: str = "image_size") -> int:
    """Refuse an input size the U-Net cannot take: it must be divisible by 2**depth."""
    size = _number(size, key, int)
    if size % (2**depth) != 0:
        raise ConfigError(
            f"params.yaml: '{key}' is {size}, which a U-Net of depth {depth} cannot take: "
            f"it must be a multiple of 2**{depth} = {2**depth} (e.g. {max(2**depth, size // 2**depth * 2**depth)})"
        )
    return size


def _model(name: str, settings: dict[str, Any], shared: dict[str, Any], where: str) -> ModelSpec:
    depth = _number(_get(shared, "depth", "model."), "model.depth", int)
    return ModelSpec(
        name=name,
        activation=_choice(_get(settings, "activation", where), ACTIVATIONS, f"{where}activation"),
        image_size=check_image_size(_get(settings, "image_size", where), depth, f"{where}image_size"),
        attention=_choice(_get(settings, "attention", where), ATTENTIONS, f"{where}attention"),
        width=_number(_get(shared, "width", "model."), "model.width", int),
        depth=depth,
        se_reduction=_number(_get(shared, "se_reduction", "model."), "model.se_reduction", int),
        input=_choice(settings.get("input", VARIANT_OPTIONS["input"]), INPUTS, f"{where}input"),
        camera_augment=_flag(settings.get("camera_augment", VARIANT_OPTIONS["camera_augment"]),
                             f"{where}camera_augment"),
    )


def _epochs(raw: dict[str, Any], models: dict[str, ModelSpec], train: TrainSettings) -> dict[str, int]:
    """Every model's training epochs: a variant's own `epochs`, or train.default_epochs; each must reach one
    validation."""
    variants = raw.get("variants") or {}
    epochs = {name: train.epochs if variants.get(name, {}).get("epochs") is None else
              _number(variants[name]["epochs"], f"variants.{name}.epochs", int) for name in models}
    for name, n in epochs.items():
        if train.val_every > n:
            raise ConfigError(f"params.yaml: 'train.val_every' is {train.val_every}, more than the {n} "
                              f"epochs of {name}: the run would never be validated")
    return epochs


def _models(raw: dict[str, Any]) -> dict[str, ModelSpec]:
    shared = _get(raw, "model", "")
    models = {BASELINE: _model(BASELINE, raw, shared, "")}
    variants = raw.get("variants") or {}
    if not isinstance(variants, dict):
        raise ConfigError("params.yaml: 'variants' must map model names to {activation, image_size, attention}")
    for name, settings in variants.items():
        if name == BASELINE:
            raise ConfigError(f"params.yaml: 'variants.{BASELINE}' is reserved for the top-level baseline settings")
        if not isinstance(settings, dict):
            raise ConfigError(f"params.yaml: 'variants.{name}' must be a mapping of {', '.join(MODEL_KEYS)}")
        _refuse_unknown(settings, MODEL_KEYS + tuple(VARIANT_OPTIONS), f"variants.{name}.")
        models[name] = _model(name, settings, shared, f"variants.{name}.")
    return models


def _seeds(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"params.yaml: 'training_seeds' must be a non-empty list of integers, got {value!r}")
    seeds = tuple(_number(s, "training_seeds[]", int, positive=False) for s in value)
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"params.yaml: 'training_seeds' lists a seed twice: {list(seeds)}")
    return seeds


def _train(tr: dict[str, Any], depth: int) -> TrainSettings:
    def get(key: str) -> Any:
        return _get(tr, key, "train.")

    train = TrainSettings(
        epochs=_number(get("default_epochs"), "train.default_epochs", int),
        batch_size=_number(get("batch_size"), "train.batch_size", int),
        lr=_number(get("lr"), "train.lr", float),
        loss=_choice(get("loss"), LOSSES, "train.loss"),
        augment=_flag(get("augment"), "train.augment"),
        crop=_number(get("crop"), "train.crop", int, positive=False),
        soft_masks=_flag(get("soft_masks"), "train.soft_masks"),
        val_every=_number(get("val_every"), "train.val_every", int),
        precision=_choice(get("precision"), PRECISIONS, "train.precision"),
        device=_choice(get("device"), DEVICES, "train.device"),
        warmup=_number(get("warmup"), "train.warmup", float, positive=False),
        optimizer=_choice(get("optimizer"), OPTIMIZERS, "train.optimizer"),
        weight_decay=_number(get("weight_decay"), "train.weight_decay", float, positive=False),
    )
    if not 0 <= train.warmup < 1:
        raise ConfigError(f"params.yaml: 'train.warmup' is {train.warmup}; allowed: a fraction of the steps, "
                          "0 (no warm-up) up to but not including 1")
    if train.weight_decay < 0 or (train.weight_decay and train.optimizer != "adamw"):
        raise ConfigError(f"params.yaml: 'train.weight_decay' is {train.weight_decay} with optimizer "
                          f"{train.optimizer!r}; allowed: 0, or a positive decay with optimizer 'adamw'")
    if train.crop < 0 or (train.crop and train.crop % 2**depth):
        raise ConfigError(f"params.yaml: 'train.crop' is {train.crop}; allowed: 0 (whole images) or a positive "
                          f"multiple of 2**model.depth")
    return train


def check_fov_degrees(value: Any, key: str) -> float:
    """A camera's field of view in degrees: a finite number within FOV_DEGREES, else a ConfigError naming `key`."""
    degrees = _number(value, key, float)
    if not FOV_DEGREES[0] <= degrees <= FOV_DEGREES[1]:
        raise ConfigError(f"params.yaml: '{key}' is {degrees:g}; a fundus camera's field of view is "
                          f"{FOV_DEGREES[0]:g} to {FOV_DEGREES[1]:g} degrees")
    return degrees


def _other_cameras(raw: dict[str, Any]) -> dict[str, CameraSet]:
    sets = raw.get("other_cameras") or {}
    if not isinstance(sets, dict):
        raise ConfigError("params.yaml: 'other_cameras' must map set names to {path, fov_degrees}")
    out = {}
    for name, entry in sets.items():
        where = f"other_cameras.{name}."
        if not isinstance(entry, dict):
            raise ConfigError(f"params.yaml: 'other_cameras.{name}' must be a mapping of {', '.join(CAMERA_SET_KEYS)}")
        _refuse_unknown(entry, CAMERA_SET_KEYS, where)
        path = _get(entry, "path", where)
        if not isinstance(path, str) or not path:
            raise ConfigError(f"params.yaml: '{where}path' must be a folder, got {path!r}")
        out[str(name)] = CameraSet(str(name), Path(path), check_fov_degrees(_get(entry, "fov_degrees", where),
                                                                             f"{where}fov_degrees"))
    return out


def _predict(section: dict[str, Any], models: dict[str, ModelSpec]) -> PredictSettings:
    model = _get(section, "model", "predict.")
    if model not in models:
        raise ConfigError(f"params.yaml: 'predict.model' is {model!r}; models: {', '.join(models)}")
    flips = _get(section, "flips", "predict.")
    if not isinstance(flips, list) or not flips or any(f not in FLIPS for f in flips) or len(set(flips)) < len(flips):
        raise ConfigError(f"params.yaml: 'predict.flips' must list distinct mirror images of {', '.join(FLIPS)}; "
                          f"got {flips!r}")
    scales = _get(section, "scales", "predict.")
    if not isinstance(scales, list) or not scales or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and 0.25 <= x <= 4 for x in scales):
        raise ConfigError(f"params.yaml: 'predict.scales' must list input scales between 0.25 and 4; got {scales!r}")
    threshold = _number(_get(section, "threshold", "predict."), "predict.threshold", float)
    if not 0 < threshold < 1:
        raise ConfigError(f"params.yaml: 'predict.threshold' must be between 0 and 1, got {threshold}")
    return PredictSettings(model, tuple(flips), tuple(float(x) for x in scales), threshold)


def parse_params(raw: dict[str, Any]) -> Params:
    """Validate a params mapping; raise ConfigError naming the first bad key and what is allowed."""
    if not isinstance(raw, dict):
        raise ConfigError("params.yaml: expected a mapping at the top level")
    _refuse_unknown(raw, tuple(SCHEMA), "")
    for section, keys in SCHEMA.items():
        if keys is not None:
            if not isinstance(_get(raw, section, ""), dict):
                raise ConfigError(f"params.yaml: '{section}' must be a mapping of {', '.join(keys)}")
            _refuse_unknown(raw[section], keys, f"{section}.")
    data, ev, mo = raw["data"], raw["evaluate"], raw["morphology"]
    models = _models(raw)
    train = _train(raw["train"], models[BASELINE].depth)
    epochs = _epochs(raw, models, train)
    val_eyes = _number(_get(data, "val_eyes", "data."), "data.val_eyes", int)
    if val_eyes >= EYES:
        raise ConfigError(f"params.yaml: 'data.val_eyes' is {val_eyes}; allowed: 1 to {EYES - 1} of the {EYES} eyes")
    threshold = _number(_get(ev, "threshold", "evaluate."), "evaluate.threshold", float)
    if not 0 < threshold < 1:
        raise ConfigError(f"params.yaml: 'evaluate.threshold' must be between 0 and 1, got {threshold}")
    source = _get(data, "source", "data.")
    if not isinstance(source, str) or not source:
        raise ConfigError("params.yaml: 'data.source' must be a non-empty string")
    check_fov_degrees(_get(mo, "fov_degrees", "morphology."), "morphology.fov_degrees")
    return Params(
        split_seed=_number(_get(data, "split_seed", "data."), "data.split_seed", int, positive=False),
        training_seeds=_seeds(_get(raw, "training_seeds", "")),
        source=source,
        strict=_flag(data.get("strict", False), "data.strict"),
        val_eyes=val_eyes,
        models=models,
        train=train,
        model_epochs=epochs,
        threshold=threshold,
        bootstrap=_number(_get(ev, "bootstrap", "evaluate."), "evaluate.bootstrap", int),
        bootstrap_seed=_number(_get(ev, "bootstrap_seed", "evaluate."), "evaluate.bootstrap_seed", int,
                               positive=False),
        morphology=MorphologySettings(*(_number(_get(mo, key, "morphology."), f"morphology.{key}", float)
                                        for key in SCHEMA["morphology"])),
        predict=_predict(raw["predict"], models),
        other_cameras=_other_cameras(raw),
        raw=raw,
    )


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate params.yaml."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (run from the project root)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_params(raw)


def run_dir(name: str, seed: int) -> str:
    """Where one (model, seed) run lives under models/, reports/train/, reports/eval/ and data/predictions/."""
    return f"{name}/seed{seed}"


def training_stage(name: str, seed: int) -> str:
    """The dvc.yaml stage that trains one (model, seed): train@<seed> for the baseline, else
    train_variant@<model>-<seed>."""
    return f"train@{seed}" if name == BASELINE else f"train_variant@{name}-{seed}"


def model_spec(params: Params, name: str) -> ModelSpec:
    """The settings of one model, or a clear error listing the models."""
    if name not in params.models:
        raise ConfigError(f"unknown model {name!r}; models in params.yaml: {', '.join(params.models)}")
    return params.models[name]
