"""Small synthetic fundus-like data sets in the Kaggle layout, made by the tests (no dependency on real data)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from retina.data.arrays import Arrays

SIZE = 512
RADIUS = 220
COUNTS = {"train": 16, "test": 4}  # 4 eyes x 4 stored copies, and 4 test images: enough to exercise every step


def fundus(seed: int, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """An RGB image (uint8) with a bright disc on black and dark curved vessels, and its soft-edged grey mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    c = size / 2
    disc = np.hypot(yy - c, xx - c) <= RADIUS * size / SIZE
    vessels = np.zeros((size, size), bool)
    for _ in range(6):
        a, f, p, y0 = rng.uniform(20, 60), rng.uniform(0.005, 0.02), rng.uniform(0, 6.3), rng.uniform(0.2, 0.8) * size
        width = rng.uniform(1.5, 4)
        vessels |= np.abs(yy - (y0 + a * np.sin(f * xx + p))) < width
    vessels &= disc
    mask = np.clip(ndi.gaussian_filter(vessels.astype(np.float32) * 255, 0.7), 0, 255).astype(np.uint8)
    base = np.array([190, 90, 40], np.float32) * (0.8 + 0.2 * rng.random())
    img = disc[..., None] * base * (1 - 0.5 * (mask[..., None] / 255.0))
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), mask


def fundus_arrays(seeds: range, size: int, photograph: int | None = None) -> Arrays:
    """A processed split of synthetic fundus images at `size`, as if each filled the whole of a square photograph of
    side `photograph` (default: `size`)."""
    pairs = [fundus(s, size=size) for s in seeds]
    soft = np.stack([p[1] for p in pairs])
    side = photograph or size
    return Arrays(images=np.stack([p[0] for p in pairs]), masks=(soft > 127).astype(np.uint8), soft=soft,
                  fov=np.ones((len(pairs), size, size), np.uint8), ids=np.arange(len(pairs)),
                  boxes=np.tile([0, 0, side, side], (len(pairs), 1)))


def write_dataset(root: Path, counts: dict[str, int] | None = None, size: int = SIZE) -> Path:
    """Write a synthetic set as root/{train,test}/{image,mask}/<n>.png; train images come in 4 copies per eye."""
    counts = counts or COUNTS
    for split, n in counts.items():
        for kind in ("image", "mask"):
            (root / split / kind).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            seed = (i // 4 if split == "train" else 1000 + i)
            img, mask = fundus(seed, size)
            if split == "train":  # the stored copies: original, left-right, top-bottom, transposed
                op = [lambda a: a, np.fliplr, np.flipud, lambda a: np.swapaxes(a, 0, 1)][i % 4]
                img, mask = op(img), op(mask)
            Image.fromarray(np.ascontiguousarray(img)).save(root / split / "image" / f"{i}.png")
            Image.fromarray(np.ascontiguousarray(mask)).save(root / split / "mask" / f"{i}.png")
    return root


def _second_opinion(mask: np.ndarray) -> np.ndarray:
    """A second annotator's reading of a binary mask: the vessels drawn a pixel wider on their upper-left side."""
    return mask | np.roll(mask, -1, axis=0) | np.roll(mask, -1, axis=1)


def write_drive_second_annotator(root: Path, source: Path) -> Path:
    """A DRIVE-layout folder (test/2nd_manual/<k+1>_manual2.gif, palette GIFs of {0, 1}) whose second annotator
    differs from the synthetic set's test masks by one pixel of width."""
    folder = root / "test" / "2nd_manual"
    folder.mkdir(parents=True)
    for path in sorted((source / "test" / "mask").glob("*.png")):
        first = np.asarray(Image.open(path)) > 127
        img = Image.fromarray(_second_opinion(first).astype(np.uint8), mode="P")
        img.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
        img.save(folder / f"{int(path.stem) + 1:02d}_manual2.gif")
    return root


def write_labelled_set(root: Path, n: int = 3, size: int = 96) -> Path:
    """Another camera's labelled set in the STARE layout (images/, labels-ah/, labels-vk/ <name>.png) whose two
    annotators differ."""
    for k in range(n):
        image, mask = fundus(k, size=size)
        first = mask > 127
        for folder, array in (("images", image), ("labels-ah", first.astype(np.uint8) * 255),
                              ("labels-vk", _second_opinion(first).astype(np.uint8) * 255)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(root / folder / f"im{k}.png")
    return root


def disc_position(height: int, centre: tuple[float, float]) -> tuple[float, float, float]:
    """Where disc_photograph of `height` puts a disc at `centre`: its row and column in pixels, and the field of
    view's diameter."""
    radius = 0.46 * height
    return (height / 2 - radius + centre[0] * 2 * radius, round(height * 1.25) / 2 - radius + centre[1] * 2 * radius,
            2 * radius)


def disc_photograph(height: int = 300, centre: tuple[float, float] = (0.5, 0.25), disc: float = 0.14,
                    lesion: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fundus photograph (uint8 RGB, `height` x 1.25 `height`) with a known optic disc: a bright round patch of
    `disc` x the field of view's diameter, at `centre` (row, col as shares of the field's diameter from its top-left),
    with a brighter cup, illumination falling off to the rim, and eight vessels radiating from the disc; `lesion`: a
    brighter patch as large as the disc, where no vessel converges. Returns the photograph, its field of view and its
    vessels ((H,W) bool each)."""
    width = round(height * 1.25)
    yy, xx = np.mgrid[:height, :width].astype(np.float64)
    radius = 0.46 * height
    cy, cx = height / 2, width / 2
    fov = np.hypot(yy - cy, xx - cx) <= radius
    dy, dx, _ = disc_position(height, centre)
    r_disc = disc * radius
    gain = 1 - 0.35 * (np.hypot(yy - cy, xx - cx) / radius) ** 2
    gain += 0.45 / (1 + np.exp((np.hypot(yy - dy, xx - dx) - r_disc) / 1.5))
    gain += 0.25 / (1 + np.exp((np.hypot(yy - dy, xx - dx) - r_disc / 2) / 1.5))
    if lesion is not None:
        ly, lx, _ = disc_position(height, lesion)
        gain += 0.7 / (1 + np.exp((np.hypot(yy - ly, xx - lx) - r_disc) / 1.5))
    vessels = np.zeros((height, width), bool)
    half_width = max(1.0, 0.006 * radius)
    for k in range(8):
        angle = 2 * np.pi * (k + 0.3) / 8
        along = (yy - dy) * np.sin(angle) + (xx - dx) * np.cos(angle)
        across = -(yy - dy) * np.cos(angle) + (xx - dx) * np.sin(angle)
        vessels |= (np.abs(across) <= half_width * (1.6 - along / (2 * radius))) & (along > r_disc / 2)
    vessels &= fov
    colour = np.array([200, 95, 45], np.float64)
    image = fov[..., None] * colour * gain[..., None] * np.where(vessels, 0.6, 1.0)[..., None]
    image += np.random.default_rng(0).normal(0, 2, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), fov, vessels
