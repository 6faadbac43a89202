"""Read DVC experiments through dvc.api: each commit's and experiment's revision, name and params, and files as
committed at a revision (an experiment's outputs under reports/ are committed in its git ref)."""
from __future__ import annotations

import io
import json
import subprocess

import dvc.api
import pandas as pd
from dvc.exceptions import DvcException

from retina.errors import PipelineError


def git(*args: str) -> str:
    """Run git; a failure is a PipelineError with git's message."""
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if result.returncode:
        raise PipelineError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def experiments() -> list[dict]:
    """[{name, rev, params}] for every commit of the branch and every experiment DVC lists from them (not the
    workspace): rev is the full commit hash, params the nested params.yaml at that revision."""
    try:
        rows = dvc.api.exp_show(num=-1)
        found = []
        for row in rows:
            if row["rev"] == "workspace":
                continue
            rev = git("rev-parse", row["rev"]).strip()
            found.append({"name": row["Experiment"] or rev[:7], "rev": rev, "params": dvc.api.params_show(rev=rev)})
    except DvcException as exc:
        raise PipelineError(f"DVC experiments: {exc}") from None
    return found


def read_at(rev: str, path: str) -> str:
    """A file's text as committed at `rev`."""
    try:
        return dvc.api.read(path, rev=rev)
    except (DvcException, FileNotFoundError) as exc:
        raise PipelineError(f"{path} at {rev[:7]}: not readable ({exc})") from None


def csv_at(rev: str, path: str, **kwargs) -> pd.DataFrame:
    """A CSV file as committed at `rev`."""
    return pd.read_csv(io.StringIO(read_at(rev, path)), **kwargs)


def json_at(rev: str, path: str) -> dict:
    """A JSON file as committed at `rev`."""
    return json.loads(read_at(rev, path))
