"""How a photograph becomes a model's input (retina.data.model_input) and the camera-shift augmentation (retina.train.augment):
the framing follows the field of view whatever the camera's framing, outputs map back onto the photograph, the flat
input takes illumination out, and the augmentation moves image and mask together."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi
from skimage import transform

from retina.train.augment import camera_shift
from retina.data.model_input import Box, crop, input_box, model_input, photograph_fov, to_photograph
from tests.synthetic import fundus

SIZE = 128


def other_camera(image: np.ndarray, zoom: float, shape: tuple[int, int], offset: tuple[int, int]) -> np.ndarray:
    """The same eye photographed larger by `zoom` on a frame of another shape (cut where it leaves the frame),
    off-centre by `offset`."""
    big = np.round(transform.resize(image, (round(image.shape[0] * zoom),) * 2, order=1, preserve_range=True))
    top, left = (shape[0] - big.shape[0]) // 2 + offset[0], (shape[1] - big.shape[1]) // 2 + offset[1]
    return crop(big.astype(np.uint8), Box(-top, -left, *shape))


@pytest.fixture(scope="module")
def eye() -> tuple[np.ndarray, np.ndarray]:
    return fundus(3)


def test_raw_input_is_the_whole_photograph_resized(eye):
    """The study's input: the whole photograph, neither framed nor cropped nor shifted, whatever its FOV."""
    image = eye[0]
    x, box = model_input(image, photograph_fov(image), "raw", SIZE)
    assert box == Box(0, 0, 512, 512) and x.shape == (SIZE, SIZE, 3) and x.dtype == np.uint8
    blocks = image.reshape(SIZE, 4, SIZE, 4, 3).mean(axis=(1, 3))  # 512 -> 128: each pixel the mean of 4x4
    assert np.abs(x - blocks).mean() < 2 and np.corrcoef(x.ravel(), blocks.ravel())[0, 1] > 0.995
    shifted = np.abs(x[:, 2:] - blocks[:, :-2]).mean()  # what a 2-pixel shift would cost: far more
    assert shifted > 3 * np.abs(x - blocks).mean()
    no_fov, _ = model_input(image, np.zeros(image.shape[:2], bool), "raw", SIZE)
    assert np.array_equal(no_fov, x)


@pytest.mark.parametrize("kind", ["framed", "flat", "clahe"])
def test_framed_inputs_see_the_same_eye_whatever_the_camera_framing(eye, kind):
    image = eye[0]
    moved = other_camera(image, 1.4, (640, 860), (-20, 35))

    def similarity(kind: str) -> float:  # correlation, after a 1-pixel blur, of the inputs made of the two photographs
        a, b = (ndi.gaussian_filter(model_input(im, photograph_fov(im), kind, SIZE)[0].astype(float), (1, 1, 0))
                for im in (image, moved))
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    assert similarity(kind) > 0.97
    assert similarity("raw") < 0.9  # the study's input sees another picture


def test_outputs_map_back_onto_the_photograph(eye):
    image, mask = eye
    moved, moved_mask = (other_camera(a, 1.4, (640, 860), (-20, 35)) for a in (image, np.stack([mask] * 3, -1)))
    fov = photograph_fov(moved)
    _, box = model_input(moved, fov, "framed", SIZE)
    small = transform.resize(crop(moved_mask[..., 0], box).astype(float) / 255, (SIZE, SIZE), order=1)
    back = to_photograph(small.astype(np.float32), box, moved.shape[:2]) > 0.5
    truth = moved_mask[..., 0] > 127
    assert back.shape == truth.shape
    assert 2 * (back & truth).sum() / (back.sum() + truth.sum()) > 0.85
    assert not back[~fov].any()


def test_flat_input_takes_out_illumination_and_colour(eye):
    image = eye[0].astype(float)
    ramp = np.linspace(0.5, 1.1, image.shape[1])[None, :, None]  # uneven illumination, and a bluer, darker camera
    other = np.clip(image * ramp * np.array([0.6, 0.8, 1.3]), 0, 255).astype(np.uint8)
    fov = photograph_fov(eye[0])
    flat = [model_input(im, fov, "flat", SIZE)[0].astype(float) for im in (eye[0], other)]
    raw = [model_input(im, fov, "raw", SIZE)[0].astype(float) for im in (eye[0], other)]
    assert np.abs(flat[0] - flat[1]).mean() < 0.25 * np.abs(raw[0] - raw[1]).mean()


def test_no_field_of_view_means_the_whole_photograph():
    black = np.zeros((200, 300, 3), np.uint8)
    fov = photograph_fov(black)
    assert not fov.any() and input_box(fov, "clahe") == Box(0, 0, 200, 300)
    x, box = model_input(black, fov, "flat", 64)
    assert x.shape == (64, 64, 3) and to_photograph(np.ones((64, 64), np.float32), box, (200, 300)).min() == 1


def test_unknown_input_kind_is_refused(eye):
    with pytest.raises(ValueError, match="unknown input kind 'hdr'; choices: raw, framed, flat, clahe"):
        model_input(eye[0], photograph_fov(eye[0]), "hdr", SIZE)


def test_camera_shift_moves_image_and_mask_together_and_is_reproducible(eye):
    image, mask = eye
    y = torch.from_numpy(mask[None, None].astype(np.float32) / 255).repeat(8, 1, 1, 1)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255).repeat(8, 1, 1, 1)
    ax, ay = camera_shift(x, y, torch.Generator().manual_seed(0))
    bx, by = camera_shift(x, y, torch.Generator().manual_seed(0))
    cx, _ = camera_shift(x, y, torch.Generator().manual_seed(1))
    assert torch.equal(ax, bx) and torch.equal(ay, by) and not torch.equal(ax, cx)
    assert ax.min() >= 0 and ax.max() <= 1 and ay.min() >= 0 and ay.max() <= 1
    assert not torch.allclose(ax, x, atol=0.05) and len({round(float(m), 3) for m in ax.mean((1, 2, 3))}) == 8
    near = F.max_pool2d(ay, 13, 1, 6) > 0.5  # within 6 px of a vessel
    for img, m, close in zip(ax, ay, near):  # vessels stay where the mask says: darker than the retina beside them
        vessel, beside = m[0] > 0.5, close[0] & (m[0] < 0.05)
        assert img[1][vessel].mean() < img[1][beside].mean() - 0.02
        assert not torch.equal(m, y[0])  # moved, not only recoloured
