"""Read DVC experiments: each experiment's revision, name and params from `dvc exp show --json`, and files as
committed at a revision (an experiment's outputs under reports/ are committed in its git ref)."""
from __future__ import annotations

import io
import json
import subprocess

import pandas as pd

from retina.errors import PipelineError


def git(*args: str) -> str:
    """Run git; a failure is a PipelineError with git's message."""
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if result.returncode:
        raise PipelineError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def experiments() -> list[dict]:
    """[{name, rev, params}] for every commit and experiment `dvc exp show --all-commits` lists (not the workspace)."""
    result = subprocess.run(["dvc", "exp", "show", "--json", "--all-commits"], capture_output=True, text=True)
    if result.returncode:
        raise PipelineError(f"dvc exp show: {result.stderr.strip()}")
    found = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "params" in data and node.get("rev") not in (None, "workspace"):
                params = data["params"].get("params.yaml", {}).get("data", {})
                found.append({"name": node.get("name") or node["rev"][:7], "rev": node["rev"], "params": params})
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(json.loads(result.stdout))
    return found


def read_at(rev: str, path: str) -> str:
    """A file's text as committed at `rev`."""
    return git("show", f"{rev}:{path}")


def csv_at(rev: str, path: str, **kwargs) -> pd.DataFrame:
    """A CSV file as committed at `rev`."""
    return pd.read_csv(io.StringIO(read_at(rev, path)), **kwargs)
