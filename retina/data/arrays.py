"""Arrays on disk: the processed data (one folder of uint8 arrays per input size and split, and the recorded
split); the stored test predictions are on retina.metrics' 16-bit grid (quantise)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retina.errors import DataError

FIELDS = ("images", "masks", "soft", "fov", "ids", "boxes")


@dataclass
class Arrays:
    """A split in memory: images (N,H,W,3) uint8; masks {0,1}, soft (area-averaged grey 0..255) and field-of-view
    masks {0,1}, each (N,H,W) uint8; ids (N,) the images' indices in the data set; boxes (N,4) where each input lies
    on its 512x512 photograph (retina.data.model_input.Box: top, left, height, width)."""

    images: np.ndarray
    masks: np.ndarray
    soft: np.ndarray
    fov: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def save_arrays(arrays: Arrays, folder: Path) -> None:
    """Store a split as a folder of .npy files (byte-identical for identical data; loads in milliseconds)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FIELDS:
        np.save(folder / f"{name}.npy", getattr(arrays, name))


def load_arrays(folder: Path) -> Arrays:
    """Load a split written by :func:`save_arrays`."""
    missing = [folder / f"{name}.npy" for name in FIELDS if not (folder / f"{name}.npy").is_file()]
    if missing:
        raise DataError(f"{missing[0]}: missing; run `dvc repro preprocess` first")
    return Arrays(**{name: load_array(folder / f"{name}.npy") for name in FIELDS})


def load_array(path: Path) -> np.ndarray:
    """One stored array (.npy); a missing, truncated or corrupt file is a DataError naming it."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: missing; run `dvc repro` to write it") from None
    except (ValueError, OSError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: not a readable array ({reason}); run `dvc repro --force` on the stage that "
                        "writes it") from None


def processed_dir(root: Path, size: int, kind: str = "raw") -> Path:
    """Folder of the processed arrays of one input size and kind (retina.data.model_input): `512`, `512-flat`, ..."""
    return Path(root) / (str(size) if kind == "raw" else f"{size}-{kind}")


def read_split_json(root: Path) -> dict:
    """The recorded train/validation split."""
    return json.loads((Path(root) / "split.json").read_text())

