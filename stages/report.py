"""Stage `report`: draw the study's figures and write reports/report.md with the claims table.

    python -m stages.report [--train reports/train] [--eval reports/eval] [--predictions data/predictions]
                            [--data data/processed] [--raw data/raw] [--cross-camera reports/cross_camera]
                            [--sweep reports/cost_sweep/runs] [--out reports]
"""
from __future__ import annotations

import argparse
import hashlib
import logging
from pathlib import Path

from retina.data.arrays import load_arrays, processed_dir, read_split_json
from retina.atomic import atomic_path, write_text
from retina.cli import run_main
from retina.config import load_params
from retina.data.dataset import NATIVE_SIZE
from retina.report.convergence import load_sweep_runs
from retina.report.figures import draw_figures
from retina.report.report import build_report
from retina.report.provenance import code_provenance
from retina.evaluate.results import gather

log = logging.getLogger("report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=Path("reports/train"))
    parser.add_argument("--eval", type=Path, default=Path("reports/eval"))
    parser.add_argument("--predictions", type=Path, default=Path("data/predictions"))
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--cross-camera", type=Path, default=Path("reports/cross_camera"))
    parser.add_argument("--sweep", type=Path, default=Path("reports/cost_sweep/runs"))
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    params = load_params()
    res = gather(params, args.train, args.eval, args.out / "timing", args.cross_camera)
    test = load_arrays(processed_dir(args.data, NATIVE_SIZE) / "test")
    with atomic_path(args.out / "figures") as tmp:
        figures = draw_figures(params, res, args.eval, args.predictions, test, tmp)
    manifest = args.raw / "manifest.sha256"
    text, claims = build_report(params, res, figures,
                                hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else "missing",
                                code_provenance(params=params.raw), len(read_split_json(args.data)["train"]),
                                load_sweep_runs(args.sweep))
    write_text(args.out / "report.md", text)
    for c in claims:
        log.info("claim: %s -> %s (%s)", c.claim, c.verdict, c.measured)


if __name__ == "__main__":
    run_main(main)
