"""What every entry point shares: logging set-up and turning a PipelineError into one clear line and exit 1."""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from retina.errors import PipelineError


def run_main(main: Callable[[], object]) -> None:
    """Run a stage's main function; a PipelineError prints `error: <message>` and exits with status 1."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        main()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
