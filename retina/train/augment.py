"""Training augmentation: random crops, the 8 symmetries of the square, and the camera shift (scale, rotation,
brightness, contrast, gamma, colour balance and blur) that stands in for photographs of other cameras."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

ZOOM_RANGE = (0.8, 1.25)  # zoom range (log-uniform): other cameras' fields of view and resolutions
ROTATE = 20.0  # degrees either way, on top of the 90-degree turns
GAIN = (0.7, 1.4)  # brightness (multiplicative, log-uniform)
CONTRAST = (0.6, 1.5)  # about each image's mean (log-uniform)
GAMMA = (0.7, 1.5)  # (log-uniform)
COLOUR = 0.1  # each channel's gain within 1 +- this
BLUR = (0.5, 1.5)  # Gaussian sigma (px) of the blurred batches
BLUR_CHANCE = 0.3  # share of batches blurred


def augment_batch(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply one random flip/90-degree rotation (of the 8 symmetries of the square) to a batch and its masks."""
    k, flip = torch.randint(0, 4, (2,), generator=gen).tolist()
    x, y = torch.rot90(x, k, (2, 3)), torch.rot90(y, k, (2, 3))
    if flip % 2:
        x, y = torch.flip(x, (3,)), torch.flip(y, (3,))
    return x, y


def patch_side(crop: int, input_size: int) -> int:
    """The side of the squares a model trains on: train.crop where it is set and smaller than the input, else the
    whole input."""
    return crop if crop and crop < input_size else input_size


def random_crop(images: torch.Tensor, masks: torch.Tensor, size: int,
                gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One random size x size crop per sample of (N,H,W,C) images and (N,1,H,W) masks (none where `size` is 0 or
    not smaller than the images)."""
    h, w = images.shape[1:3]
    if patch_side(size, min(h, w)) == min(h, w):
        return images, masks
    tops = torch.randint(0, h - size + 1, (len(images),), generator=gen).tolist()
    lefts = torch.randint(0, w - size + 1, (len(images),), generator=gen).tolist()
    return (torch.stack([im[t:t + size, l:l + size] for im, t, l in zip(images, tops, lefts)]),
            torch.stack([m[:, t:t + size, l:l + size] for m, t, l in zip(masks, tops, lefts)]))


def _log_uniform(bounds: tuple[float, float], u: torch.Tensor) -> torch.Tensor:
    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    return torch.exp(lo + u * (hi - lo))


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = math.ceil(2 * sigma)
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device) / sigma) ** 2)
    taps = taps / taps.sum()
    channels = x.shape[1]
    x = F.pad(x, (radius,) * 4, mode="reflect")
    x = F.conv2d(x, taps.view(1, 1, 1, -1).expand(channels, 1, 1, -1).contiguous(), groups=channels)
    return F.conv2d(x, taps.view(1, 1, -1, 1).expand(channels, 1, -1, 1).contiguous(), groups=channels)


def camera_shift(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Per sample of a batch (x (N,3,H,W) in [0,1], masks y (N,1,H,W)): a random zoom and rotation of both (the
    masks resampled bilinearly: soft at vessel edges), then a random gain, contrast, gamma and colour balance of
    the image; a share of batches is blurred. Random numbers come from `gen`, so a run is reproducible."""
    n = len(x)
    u = torch.rand(n, 8, generator=gen)
    zoom, angle = _log_uniform(ZOOM_RANGE, u[:, 0]), torch.deg2rad((2 * u[:, 1] - 1) * ROTATE)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros(n)], 1), torch.stack([sin, cos, torch.zeros(n)], 1)], 1)
    grid = F.affine_grid(theta.to(x.device), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    y = F.grid_sample(y, grid.to(y.dtype), mode="bilinear", padding_mode="zeros", align_corners=False)
    gain = _log_uniform(GAIN, u[:, 2]).view(n, 1, 1, 1).to(x.device)
    contrast = _log_uniform(CONTRAST, u[:, 3]).view(n, 1, 1, 1).to(x.device)
    gamma = _log_uniform(GAMMA, u[:, 4]).view(n, 1, 1, 1).to(x.device)
    colour = (1 + (2 * u[:, 5:8] - 1) * COLOUR).view(n, 3, 1, 1).to(x.device)
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (((x - mean) * contrast + mean) * gain * colour).clamp(0, 1) ** gamma
    blur = torch.rand(2, generator=gen).tolist()
    if blur[0] < BLUR_CHANCE:
        x = _blur(x, BLUR[0] + blur[1] * (BLUR[1] - BLUR[0]))
    return x.clamp(0, 1), y
