"""What every entry point shares: logging set-up, one clear line for a PipelineError or an interruption, and the
argument types that refuse bad numbers."""
from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
from collections.abc import Callable

from retina.errors import PipelineError

INTERRUPTED = 130  # the exit status of a command stopped by Ctrl-C, as shells report it


def run_main(main: Callable[[], object]) -> None:
    """Run a command's main function. A PipelineError prints `error: <message>` and exits 1; SIGTERM (what `timeout`
    and schedulers send) is treated as Ctrl-C: a KeyboardInterrupt that main does not handle prints one line and
    exits 130. Outputs are written atomically (retina.atomic), so either leaves earlier outputs in place."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        main()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"interrupted: {' '.join(sys.argv)}; outputs it had not finished were not written", file=sys.stderr)
        sys.exit(INTERRUPTED)


def number_between(low: float, high: float, what: str) -> Callable[[str], float]:
    """An argparse type: a finite number from `low` to `high` (what it is, for the message)."""
    def parse(text: str) -> float:
        value = positive_number(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a plausible {what} ({low:g} to {high:g})")
        return value
    return parse


def positive_number(text: str) -> float:
    """An argparse type: a finite number above 0 (refuses 0, negatives, nan and inf with the value given)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value
