"""DRIVE's second annotator for the 20 test images: the human reference for vessel measurements and F1.

The study's test set is DRIVE's test set resized to 512x512 with the first annotator's masks (../shared/data
SOURCES.md). DRIVE also has a second annotator's masks (test/2nd_manual/<id>_manual2.gif, palette GIFs with
indices {0, 1}, 565x584); resized the same way (area-averaged to 512x512, vessel where > 127) they are compared
with the first annotator exactly as the models are. Optional: the pipeline runs without DRIVE; the environment
variable RETINA_DRIVE (a folder in DRIVE's layout) turns the human reference on.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from retina.data.dataset import NATIVE_SIZE
from retina.errors import DataError
from retina.data.images import binarise, resize_grey

DRIVE_ENV = "RETINA_DRIVE"
ANNOTATOR2 = "annotator2"  # reports/eval/<this>/: the second annotator scored like a model


def drive_root() -> Path | None:
    """The DRIVE folder named by $RETINA_DRIVE, or None when it is not set; a named folder must exist."""
    value = os.environ.get(DRIVE_ENV)
    if not value:
        return None
    root = Path(value)
    if not (root / "test" / "2nd_manual").is_dir():
        raise DataError(f"{root}: ${DRIVE_ENV} names no DRIVE folder (test/2nd_manual/ is missing)")
    return root


def second_annotator(root: Path, ids: np.ndarray) -> np.ndarray:
    """The second annotator's masks of the given test image ids (id k is DRIVE's test image k+1), binary at
    512x512, shape (N, 512, 512) uint8."""
    masks = []
    for image_id in ids:
        path = root / "test" / "2nd_manual" / f"{int(image_id) + 1:02d}_manual2.gif"
        try:
            with Image.open(path) as img:
                labels = np.asarray(img.convert("L") if img.mode == "L" else img)
        except FileNotFoundError:
            raise DataError(f"{path}: file is missing") from None
        except (UnidentifiedImageError, OSError) as exc:
            raise DataError(f"{path}: not a readable image ({exc})") from None
        if labels.ndim != 2 or not set(np.unique(labels)) <= {0, 1, 255}:
            raise DataError(f"{path}: expected a binary annotation (values 0/1 or 0/255)")
        masks.append(binarise(resize_grey((labels > 0).astype(np.uint8) * 255, NATIVE_SIZE)))
    return np.stack(masks)
