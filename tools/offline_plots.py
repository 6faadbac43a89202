"""Make `dvc plots show` and `dvc plots diff` draw their charts with no network.

    npm ci && retina-offline-plots

Inlines vega, vega-lite and vega-embed (pinned in package.json, installed in node_modules/ by `npm ci`) into
.plots/offline.html and sets `plots.html_template` to it in .dvc/config.local. The pages DVC then writes
(dvc_plots/index.html, or the folder given with -o) are self-contained.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from retina.cli import run_main
from retina.report.offline_plots import install_template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("."), help="the project root (with node_modules/)")
    args = parser.parse_args()
    path = install_template(args.root)
    logging.getLogger("offline_plots").info("%s written; dvc plots now render offline", path)


def cli() -> None:
    """The console script `retina-offline-plots`."""
    run_main(main)


if __name__ == "__main__":
    cli()
