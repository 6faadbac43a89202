"""Record how long a stage took, for the report (reports/timing/<stage>.json; not an input to any result)."""
from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

from retina.atomic import write_text

TIMING_DIR = Path("reports/timing")


@contextlib.contextmanager
def timed(stage: str, folder: Path = TIMING_DIR) -> Iterator[None]:
    """Write {"stage", "seconds"} to folder/<stage>.json when the block completes."""
    start = time.perf_counter()
    yield
    write_text(folder / f"{stage}.json",
               json.dumps({"stage": stage, "seconds": round(time.perf_counter() - start, 2)}) + "\n")
