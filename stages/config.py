"""Read params.yaml once, validate every key, and resolve each model's full settings.

Every stage gets its configuration from :func:`load_params`; nothing else reads params.yaml.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stages.errors import ConfigError

PARAMS_FILE = Path("params.yaml")
BASELINE = "baseline"
ACTIVATIONS = ("relu", "silu", "gelu", "leaky_relu")  # stages.unet.ACTIVATION_LAYERS builds them
ATTENTIONS = ("none", "se")
LOSSES = ("bce", "dice", "bce+dice")
PRECISIONS = ("auto", "bf16", "fp32")
DEVICES = ("auto", "cpu", "cuda")
EYES = 20  # distinct eyes in the training set (80 images = 20 eyes x 4 stored copies)
SOURCE_ENV = "RETINA_DATA"


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


@dataclass(frozen=True)
class TrainSettings:
    """Training knobs shared by every model."""

    epochs: int
    batch_size: int
    lr: float
    loss: str
    augment: bool
    crop: int
    precision: str
    device: str
    seed: int


@dataclass(frozen=True)
class Params:
    """The validated contents of params.yaml."""

    seed: int
    source: str
    strict: bool
    val_eyes: int
    models: dict[str, ModelSpec]
    train: TrainSettings
    threshold: float
    bootstrap: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def image_sizes(self) -> list[int]:
        """The input sizes the models use, ascending."""
        return sorted({m.image_size for m in self.models.values()})

    def data_source(self) -> str:
        """The data source: $RETINA_DATA when set, else data.source."""
        return os.environ.get(SOURCE_ENV) or self.source


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
    if positive and value <= 0:
        raise ConfigError(f"params.yaml: '{key}' must be > 0, got {value!r}")
    return kind(value)


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
    )


def parse_params(raw: dict[str, Any]) -> Params:
    """Validate a params mapping; raise ConfigError naming the first bad key and what is allowed."""
    if not isinstance(raw, dict):
        raise ConfigError("params.yaml: expected a mapping at the top level")
    data = _get(raw, "data", "")
    shared = _get(raw, "model", "")
    models = {BASELINE: _model(BASELINE, raw, shared, "")}
    for name, settings in (raw.get("variants") or {}).items():
        if name == BASELINE:
            raise ConfigError(f"params.yaml: 'variants.{BASELINE}' is reserved for the top-level baseline settings")
        models[name] = _model(name, settings, shared, f"variants.{name}.")
    val_eyes = _number(_get(data, "val_eyes", "data."), "data.val_eyes", int)
    if val_eyes >= EYES:
        raise ConfigError(f"params.yaml: 'data.val_eyes' is {val_eyes}; allowed: 1 to {EYES - 1} of the {EYES} eyes")
    tr = _get(raw, "train", "")
    seed = _number(_get(raw, "seed", ""), "seed", int, positive=False)
    train = TrainSettings(
        epochs=_number(_get(tr, "epochs", "train."), "train.epochs", int),
        batch_size=_number(_get(tr, "batch_size", "train."), "train.batch_size", int),
        lr=_number(_get(tr, "lr", "train."), "train.lr", float),
        loss=_choice(_get(tr, "loss", "train."), LOSSES, "train.loss"),
        augment=bool(_get(tr, "augment", "train.")),
        crop=_number(_get(tr, "crop", "train."), "train.crop", int, positive=False),
        precision=_choice(_get(tr, "precision", "train."), PRECISIONS, "train.precision"),
        device=_choice(_get(tr, "device", "train."), DEVICES, "train.device"),
        seed=seed,
    )
    if train.crop < 0 or (train.crop and train.crop % 2 ** models[BASELINE].depth):
        raise ConfigError(f"params.yaml: 'train.crop' is {train.crop}; allowed: 0 (whole images) or a positive "
                          f"multiple of 2**model.depth")
    ev = _get(raw, "evaluate", "")
    threshold = _number(_get(ev, "threshold", "evaluate."), "evaluate.threshold", float)
    if not 0 < threshold < 1:
        raise ConfigError(f"params.yaml: 'evaluate.threshold' must be between 0 and 1, got {threshold}")
    source = _get(data, "source", "data.")
    if not isinstance(source, str) or not source:
        raise ConfigError("params.yaml: 'data.source' must be a non-empty string")
    return Params(
        seed=seed,
        source=source,
        strict=bool(data.get("strict", False)),
        val_eyes=val_eyes,
        models=models,
        train=train,
        threshold=threshold,
        bootstrap=_number(_get(ev, "bootstrap", "evaluate."), "evaluate.bootstrap", int),
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


def model_spec(params: Params, name: str) -> ModelSpec:
    """The settings of one model, or a clear error listing the models."""
    if name not in params.models:
        raise ConfigError(f"unknown model {name!r}; models in params.yaml: {', '.join(params.models)}")
    return params.models[name]
