"""What every command shares: SIGTERM stops it as Ctrl-C does, in one line, leaving earlier outputs in place; bad
numbers on its command line are refused by name."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from retina.cli import INTERRUPTED, positive_number
from tests.conftest import ROOT

COMMAND = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    from retina.atomic import write_text
    from retina.cli import run_main

    def main():
        write_text("result.txt", "new")
        os.kill(os.getpid(), signal.SIG{signal})
        time.sleep(30)  # never reached: the signal interrupts the command
        write_text("late.txt", "written after the signal")

    run_main(main)
""")


@pytest.mark.parametrize("name", ["TERM", "INT"])
def test_sigterm_and_ctrl_c_end_a_command_in_one_line_with_exit_130(tmp_path, name):
    (tmp_path / "result.txt").write_text("old")
    done = subprocess.run([sys.executable, "-c", COMMAND.format(signal=name)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=20, env={"PYTHONPATH": str(ROOT)},
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert done.returncode == INTERRUPTED, done.stderr
    assert "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("interrupted:")] == \
        [line for line in done.stderr.splitlines() if line.strip()], done.stderr
    assert (tmp_path / "result.txt").read_text() == "new" and not (tmp_path / "late.txt").exists()


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "0", "-2", "wide"])
def test_positive_number_refuses_non_finite_and_non_positive_values(text):
    with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
        positive_number(text)
    assert positive_number("12.5") == 12.5


def test_predict_refuses_a_non_finite_pixel_size_by_option_name(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tools.predict", str(tmp_path / "photo.png"), "--um-per-pixel",
                           "nan", "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "--um-per-pixel: must be a finite number > 0, got 'nan'" in done.stderr
    assert not (tmp_path / "out").exists()


def test_every_console_script_names_a_command_that_runs_through_run_main():
    import importlib
    import inspect
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert {"retina-predict", "retina-ablation", "retina-offline-plots", "retina-cost-sweep"} <= set(scripts)
    for name, target in scripts.items():
        module, function = target.split(":")
        command = getattr(importlib.import_module(module), function)
        assert "run_main(main)" in inspect.getsource(command), f"{name}: {target} does not go through run_main"
        help_text = subprocess.run([sys.executable, "-c", f"import sys; sys.argv = ['{name}', '--help']; "
                                    f"from {module} import {function}; {function}()"], cwd=ROOT, capture_output=True,
                                   text=True, timeout=120)
        assert help_text.returncode == 0 and f"usage: {name}" in help_text.stdout, (name, help_text.stderr)


def test_a_required_input_that_is_missing_fails_instead_of_skipping(tmp_path):
    test = tmp_path / "test_needs_data.py"
    test.write_text("from tests.conftest import unavailable\n\n"
                    "def test_needs_stare():\n    unavailable('stare', 'the shared STARE copy is not here')\n")
    base = {**os.environ, "PYTHONPATH": str(ROOT)}
    outcomes = {}
    for required in ("", "data,stare"):
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                               "-c", str(ROOT / "pytest.ini"), str(test)], cwd=ROOT, capture_output=True, text=True,
                              env={**base, "RETINA_REQUIRE": required}, timeout=120)
        outcomes[required] = (done.returncode, done.stdout)
    assert outcomes[""][0] == 0 and "1 skipped" in outcomes[""][1]
    assert outcomes["data,stare"][0] == 1 and "RETINA_REQUIRE requires stare" in outcomes["data,stare"][1]
