"""The machine: `train.precision: auto` takes bf16 only where the CPU runs it natively, and the CPU's name in the
records tells its generations apart."""
from __future__ import annotations

import platform
from pathlib import Path

import pytest
import torch

from retina import machine
from retina.train.device import bf16_supported, use_bf16

CPU = torch.device("cpu")


@pytest.mark.skipif(platform.machine() != "x86_64" or not Path("/proc/cpuinfo").is_file(),
                    reason="reads the x86 flags of /proc/cpuinfo")
def test_auto_takes_bf16_exactly_where_the_cpu_flags_say_it_is_native():
    flags = set(machine._first_processor().get("flags", "").split())  # the kernel's flags, not torch's cpuinfo
    native = bool(flags & {"avx512_bf16", "amx_bf16"})
    assert bf16_supported(CPU) is native
    assert use_bf16("auto", CPU) is native
    assert use_bf16("bf16", CPU) and not use_bf16("fp32", CPU)


@pytest.mark.parametrize(("flags", "native"), [
    ({"avx2": True}, False),
    ({"avx512_f": True, "avx512_bf16": False, "amx_bf16": False}, False),  # oneDNN would emulate bf16 here
    ({"avx512_f": True, "avx512_bf16": True}, True),
    ({"avx512_f": True, "amx_bf16": True}, True),
])
def test_plain_avx512_is_not_native_bf16_even_though_onednn_accepts_it(monkeypatch, flags, native):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"architecture": "x86_64", **flags})
    monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)
    assert bf16_supported(CPU) is native


def test_cpu_name_tells_generations_with_the_same_bare_model_name_apart(monkeypatch):
    def kind(family: str, model: str, flags: str) -> str:
        monkeypatch.setattr(machine, "_first_processor", lambda: {
            "model name": "AMD  EPYC", "cpu family": family, "model": model, "flags": flags})
        return machine.cpu_kind.__wrapped__()

    zen4 = kind("25", "17", "avx2 avx512f avx512_bf16")
    assert zen4 == "AMD EPYC family 25 model 17 (AVX-512 bf16)"
    assert kind("26", "2", "avx2 avx512f avx512_bf16") != zen4
    assert kind("23", "49", "avx2").endswith("(AVX2, no native bf16)")
