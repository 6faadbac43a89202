"""A trained model on disk: its weights and the spec that rebuilds it."""
from __future__ import annotations

import pickle
from dataclasses import asdict
from pathlib import Path

import torch

from retina.atomic import atomic_path
from retina.config import ModelSpec
from retina.errors import TrainingError
from retina.train.model import UNet


def save_checkpoint(path: Path, state_dict: dict, spec: ModelSpec, **info: object) -> None:
    """Write a model checkpoint (weights, the spec that builds it, and `info`) atomically."""
    with atomic_path(path) as tmp:
        torch.save({"spec": asdict(spec), "state_dict": state_dict, **info}, tmp)


def load_checkpoint(path: Path, device: torch.device | None = None) -> tuple[UNet, ModelSpec, dict]:
    """Rebuild a model (channels_last, on `device`) from a checkpoint written by :func:`save_checkpoint`."""
    if not path.is_file():
        raise TrainingError(f"{path}: no trained model; run `dvc repro` to train it")
    try:
        ckpt = torch.load(path, map_location=device or "cpu", weights_only=True)
        spec = ModelSpec(**ckpt["spec"])
        model = UNet.from_spec(spec)
        model.load_state_dict(ckpt["state_dict"])
    except (RuntimeError, KeyError, TypeError, EOFError, OSError, pickle.UnpicklingError) as exc:
        reason = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainingError(f"{path}: not a readable checkpoint ({reason}); it may be truncated: restore it with "
                            f"`git checkout -- {path}` or retrain it") from None
    return model.to(device or "cpu", memory_format=torch.channels_last), spec, ckpt
