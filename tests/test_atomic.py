"""Atomic writes under Ctrl-C: the file or folder at the target is either the old one or the new one, never missing,
and no temporary is left behind, wherever the interrupt lands."""
from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from retina import atomic


@pytest.fixture(autouse=True)
def terminal_ctrl_c():
    """Python's own Ctrl-C handler, as in a terminal: a suite started in the background inherits SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def ctrl_c() -> None:
    """What Ctrl-C in a terminal sends the process."""
    os.kill(os.getpid(), signal.SIGINT)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def write_folder(path: Path, text: str) -> None:
    with atomic.atomic_path(path) as tmp:
        tmp.mkdir()
        (tmp / "metrics.json").write_text(text)


def test_ctrl_c_while_writing_stops_at_once_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "state.pt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            ctrl_c()
            tmp.write_text("new")  # never reached
    assert target.read_text() == "old" and leftovers(tmp_path) == []


def test_ctrl_c_in_the_clean_up_is_raised_after_it(tmp_path, monkeypatch):
    real_rmtree = shutil.rmtree

    def interrupted_rmtree(path, *args, **kwargs):
        ctrl_c()
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(atomic.shutil, "rmtree", interrupted_rmtree)
    target = tmp_path / "state.pt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        atomic.write_text(target, "new")
    assert target.read_text() == "new" and leftovers(tmp_path) == []


def test_ctrl_c_between_the_renames_of_a_folder_never_leaves_it_missing(tmp_path, monkeypatch):
    real_replace = os.replace
    calls = []

    def interrupted_replace(src, dst):
        real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:  # the old folder has been moved aside; the new one is not in place yet
            ctrl_c()

    target = tmp_path / "logs"
    write_folder(target, "old")
    monkeypatch.setattr(atomic.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        write_folder(target, "new")
    assert len(calls) == 2 and (target / "metrics.json").read_text() == "new" and leftovers(tmp_path) == []


def test_a_held_ctrl_c_is_raised_after_the_block_and_an_ignored_one_stays_ignored():
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with atomic.interrupts_held():
            ctrl_c()
            ctrl_c()
            finished.append(True)
    assert finished and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with atomic.interrupts_held():
            ctrl_c()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_sigterm_is_held_like_ctrl_c_once_a_command_treats_it_so():
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # what retina.cli.run_main installs
    try:
        finished = []
        with pytest.raises(KeyboardInterrupt):
            with atomic.interrupts_held():
                os.kill(os.getpid(), signal.SIGTERM)
                finished.append(True)
        assert finished and signal.getsignal(signal.SIGTERM) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, previous)
