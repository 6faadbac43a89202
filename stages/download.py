"""Stage `download`: fetch the set from its source, verify it, and write data/raw/ with a sha256 manifest.

    python -m stages.download [--out data/raw]
"""
from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from stages.atomic import atomic_path
from stages.cli import run_main
from stages.config import Params, load_params
from stages.timing import timed
from stages.data import compare_manifest, copy_raw, format_manifest, manifest, parse_manifest, verify_dataset
from stages.errors import DataError
from stages.sources import fetch

log = logging.getLogger("download")
REFERENCE = Path("data/reference.sha256")


def download(params: Params, out: Path, reference: Path = REFERENCE) -> list[str]:
    """Fetch and verify the set, then replace `out` with it; return the manifest differences from `reference`.

    Nothing is written unless the whole set verifies; a mismatch with the reference is a warning, or an error
    when data.strict is true.
    """
    source = params.data_source()
    log.info("source: %s", source)
    with tempfile.TemporaryDirectory(prefix="retina-download-") as work:
        root = fetch(source, Path(work))
        pairs = verify_dataset(root)
        entries = manifest(pairs, root)
        problems = compare_manifest(entries, parse_manifest(reference.read_text())) if reference.is_file() else \
            [f"{reference}: reference manifest missing"]
        if problems:
            message = f"{len(problems)} file(s) differ from {reference}: " + "; ".join(problems[:5])
            if params.strict:
                raise DataError(message + " (data.strict is true)")
            log.warning("WARNING: %s", message)
        with atomic_path(out) as tmp:
            copy_raw(pairs, root, tmp, format_manifest(entries))
    log.info("verified %d files into %s", len(entries), out)
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/raw"))
    with timed("download"):
        download(load_params(), parser.parse_args().out)


if __name__ == "__main__":
    run_main(main)
