"""What the benchmarks that train a grid of jobs share: the jobs run over a pool of processes with their rows saved
as each job ends (a run cut short keeps what it finished), and the `run` / `table` command line."""
from __future__ import annotations

import argparse
import json
import multiprocessing
from collections.abc import Callable, Iterable
from pathlib import Path


def run_jobs(one: Callable[[tuple], dict], jobs: Iterable[tuple], processes: int, rows_file: Path) -> list[dict]:
    """Run `one` on every job in `processes` spawned processes (CUDA-safe); rewrite rows_file after each."""
    rows = []
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        for row in pool.imap_unordered(one, jobs):
            rows.append(row)
            rows_file.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def dispatch(args: argparse.Namespace, run: Callable[[argparse.Namespace], None], table: Callable[..., str]) -> None:
    """`run` (after making --out) or print `table` of the rows file(s)."""
    if args.command == "run":
        args.out.mkdir(parents=True, exist_ok=True)
        run(args)
    else:
        print(table(args.rows), end="")
