"""The same phantom gives the same measures, to 1e-6, on every CPU this project runs on.

tests/data/phantom_measures.json holds the measures of the phantoms below as written by
`python -m tests.test_same_measures_on_every_cpu`. Rewrite it only when a measure is changed on purpose, and say so in
the commit: a difference on another CPU means a phantom or a measure depends on the CPU's floating-point kernels.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retina.measure.morphology import MEASURES, vessel_measures
from tests.phantoms import circular_arc, closest_tube, sine_wave, y_junction

REFERENCE = Path(__file__).parent / "data" / "phantom_measures.json"


def phantoms() -> dict[str, np.ndarray]:
    """Phantoms whose pixels lie on their boundaries most often: arcs cut on the diagonals, tubes at 45 degrees."""
    shapes = {f"arc R{r} {d} deg": circular_arc(r, d) for r in (40, 80) for d in (90, 270)}
    shapes |= {f"tube {a} deg w{w}": closest_tube(a, w, 200) for a in (30, 45) for w in (2, 5)}
    shapes |= {f"sine {a}x{p}": sine_wave(a, p, 2)[0] for a, p in ((10, 80), (30, 100))}
    shapes |= {f"Y {a} deg": y_junction(a, 17) for a in (45, 90)}
    return shapes


def measure_all() -> dict[str, dict[str, float]]:
    """Every summary measure of every phantom, plus its pixel count."""
    return {name: {"pixels": float(mask.sum()), **{k: vessel_measures(mask).summary[k] for k in MEASURES}}
            for name, mask in phantoms().items()}


def avx512_dispatch_targets() -> list[str]:
    """numpy's dispatch targets above AVX2 that this CPU runs: disabling them (NPY_DISABLE_CPU_FEATURES) makes numpy
    take the kernels an AVX2-only CPU takes."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return [t for t in __cpu_dispatch__ if (t == "X86_V4" or t.startswith("AVX512")) and __cpu_features__.get(t)]


def assert_equal_to_reference(measured: dict[str, dict[str, float]]) -> None:
    reference = json.loads(REFERENCE.read_text())
    assert measured.keys() == reference.keys()
    for name, values in reference.items():
        for key, want in values.items():
            got = measured[name][key]
            if want is None:
                assert math.isnan(got), (name, key)
            else:
                assert got == pytest.approx(want, rel=1e-6, abs=1e-9), (name, key, got, want)


def test_phantom_measures_equal_the_reference_to_1e_6():
    assert_equal_to_reference(measure_all())


def test_phantom_measures_with_avx2_kernels_equal_the_reference():
    """On an AVX-512 CPU, the same phantoms measured with numpy and PyTorch held to their AVX2 kernels, as on an
    AVX2-only CPU."""
    targets = avx512_dispatch_targets()
    if not targets:
        pytest.skip("this CPU dispatches no numpy kernel above AVX2: the test above already measures with them")
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(targets), "ATEN_CPU_CAPABILITY": "avx2",
           "ONEDNN_MAX_CPU_ISA": "AVX2"}
    code = ("import json; from tests.test_same_measures_on_every_cpu import measure_all; "
            "from numpy._core._multiarray_umath import __cpu_features__ as f; "
            f"assert not any(f[t] for t in {targets!r}); print(json.dumps(measure_all()))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).parents[1])
    assert out.returncode == 0, out.stderr
    assert_equal_to_reference(json.loads(out.stdout.splitlines()[-1]))


if __name__ == "__main__":
    table = {name: {k: (None if math.isnan(v) else v) for k, v in values.items()} for name, values in
             measure_all().items()}
    REFERENCE.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {REFERENCE}")
