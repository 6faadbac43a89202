"""Test-time averaging over mirror images and input sizes."""
from __future__ import annotations

import numpy as np
import torch

from retina.predict.averaging import FLIPS, input_sides, merge_sizes, segment_input
from retina.train.model import UNet

CPU = torch.device("cpu")


def _models() -> list[UNet]:
    torch.manual_seed(0)
    return [UNet(width=4, depth=2).eval() for _ in range(2)]


def test_a_mirror_image_is_segmented_and_mirrored_back():
    models, x = _models(), np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    for name, axes in FLIPS.items():
        direct = segment_input(models, np.ascontiguousarray(np.flip(x, axes)), CPU)
        assert np.allclose(segment_input(models, x, CPU, (name,)), np.flip(direct, axes), atol=1e-6), name
    plain = segment_input(models, x, CPU)
    assert not np.allclose(segment_input(models, x, CPU, ("left-right",)), plain, atol=1e-3)  # an untrained net
    every = segment_input(models, x, CPU, tuple(FLIPS))
    each = np.mean([segment_input(models, x, CPU, (name,)) for name in FLIPS], axis=0)
    assert every.shape == (32, 32) and np.allclose(every, each, atol=1e-6)


def test_sizes_merge_on_the_largest_grid():
    small, large = np.full((16, 16), 0.2, np.float32), np.full((32, 32), 0.6, np.float32)
    merged = merge_sizes([small, large])
    assert merged.shape == (32, 32) and np.allclose(merged, 0.4)
    assert np.array_equal(merge_sizes([large]), large)


def test_input_sides_are_rounded_to_the_networks_multiple():
    assert input_sides(512, (0.8, 1.0, 1.25), 16) == (416, 512, 640)
    assert input_sides(512, (0.67, 1.5), 16) == (336, 768)
    assert input_sides(64, (0.01,), 16) == (16,)
