"""A fresh clone has the trained weights (tracked by git): `dvc repro` retrains nothing and reproduces the committed
evaluation, predict works at once, and a changed training param retrains exactly the runs it affects."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pandas as pd
import yaml
from PIL import Image

from retina.machine import cpu_kind
from tests.conftest import MODELS, clone, sh
from tests.synthetic import fundus

TIMES = ("seconds", "ms_per_image")  # keys and columns that hold a measured time
TIMED_COLUMNS = ("ms/image", "wall time (s)")  # report table columns that do


def timeless_markdown(text: str) -> list[str]:
    """The report's lines without its measured-time columns."""
    out, drop = [], []
    for line in text.splitlines():
        if not line.startswith("|"):
            drop = []
            out.append(line)
            continue
        cells = line.strip().strip("|").split("|")
        if not drop:
            drop = [i for i, c in enumerate(cells) if c.strip() in TIMED_COLUMNS] or [-1]
        out.append("|".join(c for i, c in enumerate(cells) if i not in drop))
    return out


def _timeless_json(value):
    if isinstance(value, dict):
        return {k: _timeless_json(v) for k, v in value.items() if not any(t in k for t in TIMES)}
    return [_timeless_json(v) for v in value] if isinstance(value, list) else value


def _timeless_lock(text: str, changed: list[str]) -> dict:
    """dvc.lock without the hashes of the files and folders that hold measured times (`changed`)."""
    lock = yaml.safe_load(text)
    for stage in lock["stages"].values():
        for entry in stage.get("deps", []) + stage.get("outs", []):
            if any(c == entry["path"] or c.startswith(entry["path"] + "/") for c in changed):
                for key in ("md5", "hash", "size", "nfiles"):
                    entry.pop(key, None)
    return lock


def timeless(path: str, text: str, changed: list[str]):
    """A committed output with its measured times left out (they differ between identical runs); in dvc.lock, the
    hashes of the changed files."""
    if path.startswith("reports/timing/"):
        return None
    if path == "dvc.lock":
        return _timeless_lock(text, [c for c in changed if c != path])
    if path.endswith(".json"):
        return _timeless_json(json.loads(text))
    if path.endswith(".csv"):
        table = pd.read_csv(io.StringIO(text))
        return table.drop(columns=[c for c in table if any(t in c for t in TIMES)]).to_dict("list")
    if path.endswith(".md"):
        return timeless_markdown(text)
    return text


def status_blocks(text: str) -> dict[str, list[str]]:
    """`dvc status` output as {stage: its indented lines, stripped}."""
    blocks: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            blocks[line[:-1]] = []
        elif line.strip() and blocks:
            blocks[list(blocks)[-1]].append(line.strip())
    return blocks


def test_a_fresh_clone_retrains_nothing_predicts_at_once_and_retrains_only_what_a_param_changes(project, tmp_path,
                                                                                              env):
    fresh = clone(project, tmp_path / "fresh", env)
    runs = [Path(m) / f"seed{s}" for m in MODELS for s in (0, 1)]
    assert all((fresh / "models" / run / "best.pt").is_file() for run in runs)  # in git, with dvc.lock
    assert not (fresh / "data").joinpath("processed").exists() and not (fresh / "models" / ".resume").exists()
    # before any repro DVC lists the training stages only for their input arrays, which preprocess recreates
    for stage, lines in status_blocks(sh(fresh, "dvc", "status", env=env)).items():
        if stage.startswith("train"):
            assert lines[0] == "changed deps:" and all(
                line.split()[0] == "deleted:" and line.split()[1].startswith("data/processed") for line in lines[1:]), \
                (stage, lines)

    photo = tmp_path / "eye.png"  # predict right after the clone, before any `dvc repro`
    Image.fromarray(fundus(5)[0]).save(photo)
    sh(fresh, sys.executable, "-m", "tools.predict", str(photo), "--out", str(tmp_path / "out"), env=env)
    measures = json.loads((tmp_path / "out" / "eye_measures.json").read_text())
    assert measures["model"] == "camera_robust" and measures["seeds"] == [0, 1] and "length" in measures
    assert all((tmp_path / "out" / f"eye_{kind}.png").is_file() for kind in ("probability", "vessels", "overlay"))

    out = sh(fresh, "dvc", "repro", env=env)
    assert "Running stage 'train" not in out and "Running stage 'evaluate'" in out
    assert "up to date" in sh(fresh, "dvc", "status", env=env)  # and so no training stage
    changed = sh(fresh, "git", "diff", "--name-only", env=env).split()
    for path in changed:  # only measured times differ from the committed results
        committed = sh(fresh, "git", "show", f"HEAD:{path}", env=env)
        assert timeless(path, (fresh / path).read_text(), changed) == timeless(path, committed, changed), path
    assert sh(fresh, "git", "status", "--porcelain", "--untracked-files=all", env=env).split()[1::2] == changed

    # a changed training param retrains exactly the runs it affects: their new weights are what git shows
    out = sh(fresh, "dvc", "exp", "run", "-n", "silu64", "-S", "activation=silu", env=env)
    ran = sorted(line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage 'train"))
    assert ran == ["train@0", "train@1"] and "Running stage 'preprocess'" not in out
    weights = [p for p in sh(fresh, "git", "diff", "--name-only", env=env).split() if p.endswith("best.pt")]
    assert sorted(weights) == ["models/baseline/seed0/best.pt", "models/baseline/seed1/best.pt"]
    # the activation-vs-resolution summary finds the experiment beside the committed models
    table = sh(fresh, sys.executable, "-m", "tools.ablation", env=env)
    assert "| relu @ 64 |" in table and "| silu @ 64 | experiment silu64" in table and "| silu @ 32 |" in table
    assert "| activation ReLU -> SiLU | size 64 | not run" not in table
    epochs = yaml.safe_load((fresh / "params.yaml").read_text())["train"]["default_epochs"]  # each cell names its schedule
    silu64 = next(line for line in table.splitlines() if line.startswith("| silu @ 64 |"))
    assert silu64.startswith(f"| silu @ 64 | experiment silu64 (baseline) | {epochs} |")
    assert f"| {cpu_kind()}, " in silu64  # names the CPU its runs trained on
    # each effect is also measured within each seed (2 here) and judged by the report's rule
    row = next(line for line in table.splitlines() if line.startswith("| activation ReLU -> SiLU | size 64 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells[6].split(", ")) == 2 and cells[7] in ("better", "worse", "not shown")
