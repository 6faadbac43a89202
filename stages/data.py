"""Reading and verifying the Retina Blood Vessel set, resizing, field-of-view masks, the eye-grouped split, array I/O."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage as ndi
from skimage import filters, measure, transform

from stages.errors import DataError

log = logging.getLogger(__name__)

NATIVE_SIZE = 512  # every image and mask of the set is 512x512; all scores are computed at this size
COUNTS = {"train": 80, "test": 20}
COPIES_PER_EYE = 4  # train index 4g: original, 4g+1: left-right flip, 4g+2: top-bottom flip, 4g+3: rotated
MASK_THRESHOLD = 127  # masks have soft edges: vessel where grey > 127
SPLITS = ("train", "val", "test")
ARRAY_FIELDS = ("images", "masks", "fov", "ids")
_NAME = re.compile(r"^(\d+)\.png$")


@dataclass(frozen=True)
class Pair:
    """One image and its vessel mask."""

    split: str
    index: int
    image: Path
    mask: Path


@dataclass
class Arrays:
    """A split held in memory: images (N,H,W,3), masks and field-of-view masks (N,H,W), all uint8."""

    images: np.ndarray
    masks: np.ndarray
    fov: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def read_image(path: Path) -> np.ndarray:
    """Read an RGB fundus photograph as uint8 (H,W,3); refuse greyscale, RGBA and unreadable files by name."""
    img = _open(path)
    if img.mode != "RGB":
        raise DataError(f"{path}: image mode is {img.mode} ({_describe_mode(img.mode)}); expected RGB colour")
    return np.asarray(img)


def read_mask(path: Path) -> np.ndarray:
    """Read a single-channel vessel mask as uint8 grey levels (H,W)."""
    img = _open(path)
    if img.mode not in ("L", "1"):
        raise DataError(f"{path}: mask mode is {img.mode} ({_describe_mode(img.mode)}); expected single-channel grey")
    return np.asarray(img.convert("L"))


def _open(path: Path) -> Image.Image:
    if not path.is_file():
        raise DataError(f"{path}: file is missing")
    try:
        img = Image.open(path)
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"{path}: not a readable image ({exc})") from None
    return img


def _describe_mode(mode: str) -> str:
    return {"L": "greyscale", "RGBA": "colour with alpha", "P": "palette", "RGB": "colour"}.get(mode, "unsupported")


def list_pairs(root: Path, split: str) -> list[Pair]:
    """The image/mask pairs of one split, checking names, pairing and count."""
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
    expected = COUNTS[split]
    if sorted(images) != list(range(expected)):
        raise DataError(f"{root / split}: expected {expected} pairs named 0.png..{expected - 1}.png, "
                        f"found {len(images)}")
    return [Pair(split, i, images[i], masks[i]) for i in range(expected)]


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
    pairs = {split: list_pairs(root, split) for split in COUNTS}
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


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    """Resize an RGB uint8 image with anti-aliasing to float32 in [0,1]."""
    out = image.astype(np.float32) / 255.0
    if out.shape[0] != size or out.shape[1] != size:
        out = transform.resize(out, (size, size), order=1, anti_aliasing=True, mode="reflect")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """Resize a grey mask (0..255) with anti-aliasing, then binarise at >127: uint8 {0,1}."""
    grey = mask.astype(np.float32)
    if grey.shape != (size, size):
        grey = transform.resize(grey, (size, size), order=1, anti_aliasing=True, mode="reflect", preserve_range=True)
    return (grey > MASK_THRESHOLD).astype(np.uint8)


def fov_mask(image: np.ndarray) -> np.ndarray:
    """The field of view (the round fundus disc) of an RGB image in [0,1], as uint8 {0,1}.

    The red channel is bright over the whole disc and near zero in the black corners: smooth it, threshold it with
    Otsu's method, keep the largest connected region and fill its holes.
    """
    red = filters.gaussian(image[..., 0], sigma=2)
    if red.max() - red.min() < 1e-3:
        return np.ones(red.shape, np.uint8)
    labels = measure.label(red > filters.threshold_otsu(red))
    largest = np.argmax(np.bincount(labels.ravel())[1:]) + 1
    return ndi.binary_fill_holes(labels == largest).astype(np.uint8)


def split_eyes(n_train: int, val_eyes: int, seed: int) -> dict[str, list[int]]:
    """Split training indices by eye (4 stored copies each) so no eye is on both sides."""
    if n_train % COPIES_PER_EYE:
        raise DataError(f"{n_train} training images is not a whole number of eyes ({COPIES_PER_EYE} copies each)")
    eyes = n_train // COPIES_PER_EYE
    if not 0 < val_eyes < eyes:
        raise DataError(f"val_eyes must be between 1 and {eyes - 1}, got {val_eyes}")
    order = np.random.default_rng(seed).permutation(eyes)
    val = sorted(int(e) for e in order[:val_eyes])
    train = sorted(int(e) for e in order[val_eyes:])

    def indices(group: list[int]) -> list[int]:
        return [e * COPIES_PER_EYE + c for e in group for c in range(COPIES_PER_EYE)]

    return {"train_eyes": train, "val_eyes": val, "train": indices(train), "val": indices(val)}


def build_arrays(images: list[np.ndarray], masks: list[np.ndarray], ids: list[int], size: int) -> Arrays:
    """Resize a list of native images and grey masks into compact uint8 arrays with FOV masks."""
    resized = [resize_image(img, size) for img in images]
    return Arrays(
        images=np.stack([np.round(r * 255).astype(np.uint8) for r in resized]),
        masks=np.stack([resize_mask(m, size) for m in masks]),
        fov=np.stack([fov_mask(r) for r in resized]),
        ids=np.asarray(ids, dtype=np.int64),
    )


def save_arrays(arrays: Arrays, folder: Path) -> None:
    """Store a split as a folder of .npy files (byte-identical for identical data; loads in milliseconds)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ARRAY_FIELDS:
        np.save(folder / f"{name}.npy", getattr(arrays, name))


def load_arrays(folder: Path) -> Arrays:
    """Load a split written by :func:`save_arrays`."""
    missing = [folder / f"{name}.npy" for name in ARRAY_FIELDS if not (folder / f"{name}.npy").is_file()]
    if missing:
        raise DataError(f"{missing[0]}: missing; run `dvc repro preprocess` first")
    return Arrays(**{name: np.load(folder / f"{name}.npy") for name in ARRAY_FIELDS})


def processed_dir(root: Path, size: int) -> Path:
    """Folder of the processed arrays at one input size."""
    return Path(root) / str(size)


def read_split_json(root: Path) -> dict:
    """The recorded train/validation split."""
    return json.loads((Path(root) / "split.json").read_text())
