"""Labelled sets of photographs from other cameras, read and checked: each photograph with its first annotator's
vessel label, optionally a second annotator's and the set's own field-of-view mask, all at the photograph's size.

Two layouts are read:
- the project's: images/<name>.<ext>; labels/ (or STARE's labels-ah/) for the first annotator; optionally labels2/
  (or STARE's labels-vk/) for a second and fov/ for field-of-view masks. A label or mask is the file named as its
  photograph, or as its photograph plus a suffix after `_` (DR HAGIS: 10.jpg, labels/10_manual_orig.png,
  fov/10_mask_orig.png; LES-AV: fov/111_mask.gif);
- DRIVE's own (test/images/NN_test.tif, test/1st_manual/NN_manual1.gif, test/2nd_manual/NN_manual2.gif,
  test/mask/NN_test_mask.gif): its test set at 565x584 with the official FOV masks, as published tables score it.
Labels and masks are binary (0 and one other level; a palette image's indices count as levels): a label that is not
is refused, as is one of another size than its photograph or a photograph without its label.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from retina.data.dataset import format_manifest, sha256
from retina.data.images import MASK_THRESHOLD, read_photograph
from retina.errors import DataError

REFERENCE_DIRS = ("labels", "labels-ah")  # the first that exists is the reference annotator
SECOND_DIRS = ("labels2", "labels-vk")  # a second annotator, optional
FOV_DIR = "fov"  # the set's own field-of-view masks, optional
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".ppm")
DRIVE_TEST = Path("test")  # DRIVE's layout: its test split, the one with a second annotator


@dataclass
class LabelledSet:
    """Photographs of another camera with their reference (and optional second) annotation and FOV masks."""

    root: Path
    names: list[str]
    images: list[np.ndarray]  # (H, W, 3) uint8 each
    reference: list[np.ndarray]  # (H, W) bool each
    second: list[np.ndarray] | None  # (H, W) bool each
    fov: list[np.ndarray] | None  # (H, W) bool each: the set's own masks; None: found from each photograph
    fingerprint: str  # sha256 over the files read

    @property
    def sizes(self) -> list[tuple[int, int]]:
        """The photographs' distinct sizes, (width, height), largest first."""
        return sorted({(im.shape[1], im.shape[0]) for im in self.images}, key=lambda s: -s[0] * s[1])


def read_binary(path: Path, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A binary label or mask of the given (height, width) as bool; a clear DataError naming the file otherwise."""
    if not path.is_file():
        raise DataError(f"{path}: file is missing")
    try:
        with Image.open(path) as img:
            img.load()
            grey = np.asarray(img if img.mode in ("L", "P") else img.convert("L"))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    if grey.ndim != 2:
        raise DataError(f"{path}: {what} has {grey.shape[2]} channels; expected one")
    if grey.shape != shape[:2]:
        raise DataError(f"{path}: {what} is {grey.shape[1]}x{grey.shape[0]}, its photograph {shape[1]}x{shape[0]}")
    levels = np.unique(grey)
    palette = levels.max() <= 1  # palette indices or 0/1 values: any non-zero level is the foreground
    if len(levels) > 2 or (len(levels) == 2 and not palette and not levels[0] <= MASK_THRESHOLD < levels[1]):
        raise DataError(f"{path}: {what} is not binary ({len(levels)} grey levels: {', '.join(map(str, levels[:4]))}"
                        f"{', ...' if len(levels) > 4 else ''}); expected background 0 and one foreground level "
                        f"(a JPEG or resized label: binarise it at > {MASK_THRESHOLD} first)")
    return grey > 0 if palette else grey > MASK_THRESHOLD


def _matching(folder: Path, stem: str) -> Path:
    """The file of `folder` named `stem`.png, or the one whose name is `stem` plus a `_` suffix."""
    exact = folder / f"{stem}.png"
    if exact.is_file():
        return exact
    found = sorted(p for p in folder.iterdir() if p.stem.startswith(f"{stem}_"))
    if len(found) > 1:
        raise DataError(f"{folder}: {len(found)} files could belong to {stem} ({', '.join(p.name for p in found)})")
    return found[0] if found else exact  # a missing file is refused by name when it is read


def _first_dir(root: Path, names: tuple[str, ...]) -> Path | None:
    return next((root / d for d in names if (root / d).is_dir()), None)


def _project_layout(root: Path) -> list[tuple[str, Path, Path, Path | None, Path | None]]:
    """(name, photograph, label, second label, FOV mask) of every photograph in the project's layout."""
    if not (root / "images").is_dir():
        raise DataError(f"{root}: not a labelled set (images/ is missing)")
    photos = sorted(p for p in (root / "images").iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise DataError(f"{root / 'images'}: no photographs ({', '.join(PHOTO_SUFFIXES)})")
    reference, second = _first_dir(root, REFERENCE_DIRS), _first_dir(root, SECOND_DIRS)
    if reference is None:
        raise DataError(f"{root}: no reference labels ({' or '.join(d + '/' for d in REFERENCE_DIRS)})")
    fov = root / FOV_DIR if (root / FOV_DIR).is_dir() else None
    return [(p.stem, p, _matching(reference, p.stem), second and _matching(second, p.stem),
             fov and _matching(fov, p.stem)) for p in photos]


def _drive_layout(root: Path) -> list[tuple[str, Path, Path, Path | None, Path | None]]:
    """(name, photograph, label, second label, FOV mask) of DRIVE's test photographs."""
    test = root / DRIVE_TEST
    photos = sorted((test / "images").glob("*_test.tif"))
    if not photos:
        raise DataError(f"{test / 'images'}: no DRIVE test photographs (NN_test.tif)")
    rows = []
    for photo in photos:
        n = photo.stem.split("_")[0]
        rows.append((photo.stem, photo, test / "1st_manual" / f"{n}_manual1.gif",
                     test / "2nd_manual" / f"{n}_manual2.gif" if (test / "2nd_manual").is_dir() else None,
                     test / "mask" / f"{n}_test_mask.gif"))
    return rows


def is_drive(root: Path) -> bool:
    """Whether a folder is in DRIVE's own layout."""
    return (root / DRIVE_TEST / "1st_manual").is_dir()


def read_labelled_set(root: Path) -> LabelledSet:
    """Read and check a labelled set in either layout: every photograph has a binary reference label of its size
    (a clear error naming the file if not), and a second label and FOV mask where the set has them."""
    rows = _drive_layout(root) if is_drive(root) else _project_layout(root)
    images, reference, second, fov, files = [], [], [], [], []
    for _, photo, label, label2, mask in rows:
        image = read_photograph(photo)
        images.append(image)
        reference.append(read_binary(label, image.shape, "label"))
        files += [photo, label]
        if label2 is not None:
            second.append(read_binary(label2, image.shape, "label"))
            files.append(label2)
        if mask is not None:
            fov.append(read_binary(mask, image.shape, "field-of-view mask"))
            files.append(mask)
    digest = hashlib.sha256(format_manifest({p.relative_to(root).as_posix(): sha256(p) for p in files}).encode()
                            ).hexdigest()
    return LabelledSet(root, [r[0] for r in rows], images, reference, second or None, fov or None, digest)
