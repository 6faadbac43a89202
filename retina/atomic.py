"""Write outputs under a temporary name and rename them into place, so a killed stage leaves no half-written file."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path` to write a file or folder to; on success it replaces `path`.

    On an exception the temporary is removed and whatever was at `path` before is left untouched. Ctrl-C during the
    write stops it at once; during the swap into place and the clean-up it is held until they are done, so it
    neither leaves `path` missing between the two renames of a folder nor breaks into the clean-up.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)) / path.name
    try:
        yield tmp
        with interrupts_held():
            if path.is_dir() and not path.is_symlink():
                os.replace(path, tmp.parent / (path.name + ".old"))
            os.replace(tmp, path)
    finally:
        with interrupts_held():
            shutil.rmtree(tmp.parent, ignore_errors=True)


HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, and what `timeout` or a scheduler sends (retina.cli)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM for the duration of the block and raise KeyboardInterrupt after it if one came.

    Only a signal that raises KeyboardInterrupt (Python's default handler for SIGINT; retina.cli installs it for
    SIGTERM too), in the main thread: a signal that is ignored, or left to kill the process, stays so.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = [s for s in HELD_SIGNALS if signal.getsignal(s) is signal.default_int_handler]
    received: list[int] = []
    for signum in held:
        signal.signal(signum, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for signum in held:
            signal.signal(signum, signal.default_int_handler)
        if received:
            raise KeyboardInterrupt


def write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def save_png(array: np.ndarray, path: str | Path, compress_level: int = 6) -> None:
    """Write a uint8 array as a PNG atomically (zlib level 0-9: 1 writes a large photograph's masks ~3x faster)."""
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG", compress_level=compress_level)
