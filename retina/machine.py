"""What machine a figure came from: CPU model and vector extensions, threads, GPU."""
from __future__ import annotations

import platform
from functools import lru_cache
from pathlib import Path

import torch


@lru_cache(maxsize=1)
def cpu_kind() -> str:
    """E.g. 'Intel Xeon (AMX bf16)' or 'AMD EPYC 7B13 (AVX2, no native bf16)', from /proc/cpuinfo."""
    name, flags = platform.processor() or "unknown CPU", set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and name in ("unknown CPU", platform.processor()):
                name = " ".join(value.split())
            elif key.strip() == "flags":
                flags = set(value.split())
                break
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
