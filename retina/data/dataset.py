"""The Retina Blood Vessel set on disk: pairing, verification and the sha256 manifest."""
from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retina.errors import DataError
from retina.data.images import MASK_THRESHOLD, read_image, read_mask

NATIVE_SIZE = 512  # every image and mask of the set is 512x512; all scores are computed at this size
SPLITS = ("train", "test")  # how many pairs each holds comes from the data (the study's: 80 and 20), checked against
#                             the reference checksums in data/reference.sha256
_NAME = re.compile(r"^(\d+)\.png$")


@dataclass(frozen=True)
class Pair:
    """One image and its vessel mask."""

    split: str
    index: int
    image: Path
    mask: Path


def list_pairs(root: Path, split: str) -> list[Pair]:
    """The image/mask pairs of one split, checking names (0.png, 1.png, ... without gaps) and pairing."""
    folders = {kind: root / split / kind for kind in ("image", "mask")}
    found: dict[str, dict[int, Path]] = {}
    for kind, folder in folders.items():
        if not folder.is_dir():
            raise DataError(f"{folder}: folder is missing")
        files = [p for p in folder.iterdir() if not p.name.startswith(".")]
        odd = sorted(p.name for p in files if not _NAME.match(p.name))
        if odd:
            raise DataError(f"{folder}: unexpected file names {odd[:5]}; expected <n>.png")
        found[kind] = {int(_NAME.match(p.name).group(1)): p for p in files}
    images, masks = found["image"], found["mask"]
    for idx in sorted(set(images) ^ set(masks)):
        have, lack = ("image", "mask") if idx in images else ("mask", "image")
        raise DataError(f"{folders[lack] / f'{idx}.png'}: file is missing (its {have} exists)")
    if not images:
        raise DataError(f"{folders['image']}: no image")
    gaps = sorted(set(range(max(images) + 1)) - set(images))
    if gaps:
        raise DataError(f"{root / split}: expected pairs named 0.png..{max(images)}.png without gaps; "
                        f"{', '.join(f'{g}.png' for g in gaps[:5])} missing")
    return [Pair(split, i, images[i], masks[i]) for i in range(len(images))]


def verify_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Read one pair and check sizes and content; return (image, grey mask)."""
    image, mask = read_image(pair.image), read_mask(pair.mask)
    for path, arr in ((pair.image, image), (pair.mask, mask)):
        if arr.shape[:2] != (NATIVE_SIZE, NATIVE_SIZE):
            raise DataError(f"{path}: size is {arr.shape[1]}x{arr.shape[0]}; expected {NATIVE_SIZE}x{NATIVE_SIZE}")
    if not (mask > MASK_THRESHOLD).any():
        raise DataError(f"{pair.mask}: mask has no vessel pixel (no grey level above {MASK_THRESHOLD})")
    return image, mask


def verify_dataset(root: Path) -> dict[str, list[Pair]]:
    """Check the whole set (counts, pairing, names, modes, sizes, content) before anything is written."""
    pairs = {split: list_pairs(root, split) for split in SPLITS}
    for split_pairs in pairs.values():
        for pair in split_pairs:
            verify_pair(pair)
    return pairs


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(pairs: dict[str, list[Pair]], root: Path) -> dict[str, str]:
    """{relative path: sha256} of every file of the set."""
    return {p.relative_to(root).as_posix(): sha256(p)
            for split_pairs in pairs.values() for pair in split_pairs for p in (pair.image, pair.mask)}


def format_manifest(entries: dict[str, str]) -> str:
    """Manifest text in `sha256sum` format, sorted by path."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(entries.items()))


def parse_manifest(text: str) -> dict[str, str]:
    """Read `sha256sum` format."""
    entries = {}
    for line in text.splitlines():
        if line.strip():
            digest, path = line.split(maxsplit=1)
            entries[path.lstrip("*")] = digest
    return entries


def compare_manifest(actual: dict[str, str], reference: dict[str, str]) -> list[str]:
    """Differences between a manifest and the reference, one readable line each."""
    problems = [f"{path}: not in the reference" for path in sorted(set(actual) - set(reference))]
    problems += [f"{path}: missing" for path in sorted(set(reference) - set(actual))]
    problems += [f"{path}: checksum differs from the reference" for path in sorted(set(actual) & set(reference))
                 if actual[path] != reference[path]]
    return problems


def copy_raw(pairs: dict[str, list[Pair]], root: Path, out: Path, manifest_text: str) -> None:
    """Copy the verified files into `out` ({split}/{image,mask}/<n>.png) with manifest.sha256."""
    for split_pairs in pairs.values():
        for pair in split_pairs:
            for src in (pair.image, pair.mask):
                dest = out / src.relative_to(root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
    (out / "manifest.sha256").write_text(manifest_text)
