"""Where and how a network runs: the device, bf16 or fp32, the memory layout, and images as its input tensor."""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from retina.errors import TrainingError


def select_device(setting: str) -> torch.device:
    """`auto`: CUDA when present, else the CPU; `cuda` without a GPU is an error. On CUDA, cuDNN autotuning is on."""
    if setting == "cuda" and not torch.cuda.is_available():
        raise TrainingError("train.device is 'cuda' but no CUDA device is available; use 'auto' or 'cpu'")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu") if setting == "auto" else torch.device(setting)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick the fastest convolution once
    return device


def bf16_supported(device: torch.device) -> bool:
    """Whether this device runs bf16 natively (x86 CPU: AVX512-BF16 or AMX; other CPUs: oneDNN's own check; GPU:
    compute capability 8+). On x86 oneDNN also accepts plain AVX-512, where it emulates bf16 at a quarter of the fp32
    matmul rate, so the CPU's own flags decide."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    cpu = torch.cpu.get_capabilities()
    if cpu.get("architecture") == "x86_64":
        return bool(cpu.get("avx512_bf16") or cpu.get("amx_bf16"))
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def use_bf16(precision: str, device: torch.device) -> bool:
    """`auto` takes bf16 autocast only where the hardware runs it natively (emulated bf16 is slower than fp32)."""
    return precision == "bf16" or (precision == "auto" and bf16_supported(device))


def autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast for the forward pass, or nothing."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def training_layout(device: torch.device, bf16: bool) -> torch.memory_format:
    """channels_last where it speeds training up (GPU; CPU in bf16: 1.5x on AMX), NCHW for CPU fp32, where
    channels_last made 256x256 training 4-17% slower on an AVX2 EPYC (benchmarks.speed). Inference always uses
    channels_last (1.4-1.6x faster on both CPU kinds)."""
    return torch.channels_last if device.type == "cuda" or bf16 else torch.contiguous_format


def to_input(images: torch.Tensor | np.ndarray, device: torch.device,
             layout: torch.memory_format = torch.channels_last) -> torch.Tensor:
    """uint8 images (N,H,W,3) -> float32 [0,1] tensor (N,3,H,W) in `layout` on `device`."""
    images = torch.as_tensor(images)
    x = images.to(device).permute(0, 3, 1, 2).float().div_(255.0)
    return x.contiguous(memory_format=layout)
