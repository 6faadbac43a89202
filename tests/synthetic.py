"""Small synthetic fundus-like data sets in the Kaggle layout, made by the tests (no dependency on real data)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

SIZE = 512
RADIUS = 220


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


def write_dataset(root: Path, counts: dict[str, int] | None = None, size: int = SIZE) -> Path:
    """Write a synthetic set as root/{train,test}/{image,mask}/<n>.png; train images come in 4 copies per eye."""
    counts = counts or {"train": 80, "test": 20}
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
