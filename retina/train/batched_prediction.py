"""Vessel probabilities for a stack of images, a few at a time, in eval mode (validation, evaluation, predict)."""
from __future__ import annotations

import numpy as np
import torch

from retina.train.device import autocast, to_input
from retina.train.model import UNet


@torch.no_grad()
def predict_logits(model: UNet, images: np.ndarray, device: torch.device, bf16: bool,
                   batch_size: int = 4) -> torch.Tensor:
    """Logits (N,H,W) in fp32 on the CPU for uint8 images (N,H,W,3), in eval mode and channels_last."""
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        with autocast(device, bf16):
            logits = model(to_input(images[start:start + batch_size], device))
        out.append(logits.float()[:, 0].cpu())
    model.train(was_training)
    return torch.cat(out)


def predict_proba(model: UNet, images: np.ndarray, device: torch.device, bf16: bool,
                  batch_size: int = 4) -> np.ndarray:
    """Vessel probabilities (N,H,W) float32 for uint8 images (N,H,W,3)."""
    return torch.sigmoid(predict_logits(model, images, device, bf16, batch_size)).numpy()
