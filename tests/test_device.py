"""The machine: `train.precision: auto` takes bf16 only where the CPU runs it natively, evaluation predicts in fp32
wherever it runs, and the CPU's name in the records tells its generations apart."""
from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import pytest
import torch

from retina import machine
from retina.data.arrays import processed_dir, save_arrays
from retina.evaluate.scoring import predict_split
from retina.train import device as device_module
from retina.train.batched_prediction import predict_proba
from retina.train.checkpoint import load_checkpoint
from retina.train.device import bf16_supported, use_bf16
from tests.synthetic import fundus_arrays

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


def test_test_images_are_predicted_in_fp32_where_the_cpu_runs_bf16_too(checkpoint, tmp_path, monkeypatch):
    """The evaluation's scores must not depend on whether the CPU runs bf16: bf16 would change the probabilities,
    and predict_split gives the same ones when the CPU claims native bf16."""
    test = fundus_arrays(range(4), 64, photograph=512)
    root = tmp_path / "processed"
    save_arrays(test, processed_dir(root, 64) / "test")
    model = load_checkpoint(checkpoint, CPU)[0]
    assert not np.array_equal(predict_proba(model, test.images, CPU, bf16=True),
                              predict_proba(model, test.images, CPU, bf16=False))
    plain = predict_split(checkpoint, root, "cpu")
    monkeypatch.setattr(device_module, "bf16_supported", lambda device: True)
    claimed = predict_split(checkpoint, root, "cpu")
    assert plain.prob.shape == (4, 512, 512) and np.array_equal(claimed.prob, plain.prob)
