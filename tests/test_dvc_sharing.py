"""Sharing results the DVC way, on the tiny project: a fresh clone gets the cached outputs (data, predictions) from a
remote with `dvc pull` and runs no stage at all, and experiments queued with `dvc exp run --queue` run and are
listed."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from tests.conftest import MODELS, clone, sh


def _copy(project: Path, dest: Path) -> Path:
    """A copy of the run tiny project, its DVC cache included (its results are committed)."""
    return Path(shutil.copytree(project, dest, symlinks=True))


def test_a_fresh_clone_pulls_the_cache_from_a_remote_and_runs_nothing(project, tmp_path, env):
    work = _copy(project, tmp_path / "trained")
    sh(work, "dvc", "remote", "add", "-d", "store", str(tmp_path / "remote"), env=env)
    sh(work, "git", "commit", "-qam", "a local folder as the DVC remote", env=env)
    sh(work, "dvc", "push", env=env)

    fresh = clone(work, tmp_path / "fresh", env)
    assert not list(fresh.glob("data/predictions/*/*.npy")) and not (fresh / "data" / "processed").exists()
    sh(fresh, "dvc", "pull", env=env)
    assert "up to date" in sh(fresh, "dvc", "status", env=env)
    assert "Running stage" not in sh(fresh, "dvc", "repro", env=env)
    for model in MODELS:
        for seed in (0, 1):
            run = Path(model) / f"seed{seed}"
            assert (fresh / "models" / run / "best.pt").read_bytes() == (work / "models" / run / "best.pt").read_bytes()
            assert (fresh / "data" / "predictions" / f"{run}.npy").is_file()
    assert (fresh / "reports" / "report.md").read_text() == (work / "reports" / "report.md").read_text()


def _queue_busy(work: Path, env: dict) -> bool:
    status = subprocess.run(["dvc", "queue", "status"], cwd=work, env=env, capture_output=True, text=True).stdout
    return any(word in status for word in ("Queued", "Running"))


def test_queued_experiments_run_one_after_another_and_are_listed(project, tmp_path, env):
    work = _copy(project, tmp_path / "queue")
    for name, epochs in (("two-epochs", 2), ("four-epochs", 4)):
        sh(work, "dvc", "exp", "run", "--queue", "-n", name, "-S", f"train.default_epochs={epochs}", "-S", "training_seeds=[0]",
           env=env)
    sh(work, "dvc", "queue", "start", "-j", "1", env=env)
    deadline = time.monotonic() + 900
    while _queue_busy(work, env) and time.monotonic() < deadline:
        time.sleep(5)
    status = sh(work, "dvc", "queue", "status", env=env)
    assert "Failed" not in status and not _queue_busy(work, env), status
    shown = json.loads(sh(work, "dvc", "exp", "show", "--json", env=env))
    experiments = {exp["name"]: exp["revs"][0]["data"] for row in shown for exp in row.get("experiments") or []}
    assert {"two-epochs", "four-epochs"} <= set(experiments)
    for name, epochs in (("two-epochs", 2), ("four-epochs", 4)):
        data = experiments[name]
        assert data["params"]["params.yaml"]["data"]["train"]["default_epochs"] == epochs
        summary = data["metrics"]["reports/eval/summary.json"]["data"]
        assert set(summary) == set(MODELS) and all(summary[m]["seeds"] == 1 for m in MODELS)
