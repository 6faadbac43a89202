"""What machine a figure came from: CPU model and vector extensions, threads, GPU."""
from __future__ import annotations

import platform
from functools import lru_cache
from pathlib import Path

import torch


def _first_processor() -> dict[str, str]:
    """The fields of the first processor in /proc/cpuinfo (none where the file is missing)."""
    path = Path("/proc/cpuinfo")
    first = path.read_text().split("\n\n")[0] if path.is_file() else ""
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in first.splitlines())}


@lru_cache(maxsize=1)
def cpu_kind() -> str:
    """E.g. 'AMD EPYC family 25 model 17 (AVX-512 bf16)' or 'Intel(R) Xeon(R) Processor family 6 model 207 (AVX-512,
    no native bf16)', from /proc/cpuinfo. Virtual machines often report a bare model name ('AMD EPYC'), so the
    family and model numbers tell CPU generations apart."""
    info = _first_processor()
    name = " ".join(info.get("model name", "").split()) or platform.processor() or "unknown CPU"
    if "cpu family" in info and "model" in info:
        name += f" family {info['cpu family']} model {info['model']}"
    flags = set(info.get("flags", "").split())
    if "amx_bf16" in flags:
        isa = "AMX bf16"
    elif "avx512_bf16" in flags:
        isa = "AVX-512 bf16"
    elif "avx512f" in flags:
        isa = "AVX-512, no native bf16"
    elif "avx2" in flags:
        isa = "AVX2, no native bf16"
    else:
        isa = "no AVX2"
    return f"{name} ({isa})"


def describe(device: torch.device) -> str:
    """The device a run used, with the CPU kind and thread count (and the GPU's name on CUDA)."""
    cpu = f"{cpu_kind()}, {torch.get_num_threads()} threads"
    return f"{torch.cuda.get_device_name(device)} (host: {cpu})" if device.type == "cuda" else cpu
