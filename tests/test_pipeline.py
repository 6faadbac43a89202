"""The whole DVC pipeline, end to end, on synthetic data with a tiny model in a temporary copy of the project."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

TINY = {"model": {"width": 4, "depth": 2, "se_reduction": 2}, "image_size": 64,
        "variants": {"silu256": {"activation": "silu", "image_size": 32, "attention": "none"},
                     "silu256_se": {"activation": "silu", "image_size": 32, "attention": "se"}}}


def sh(cwd: Path, *args: str, env: dict) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory, synthetic_source) -> tuple[Path, dict]:
    """A copy of the project with tiny params, as a git + DVC repository, after one full `dvc repro`."""
    work = tmp_path_factory.mktemp("project")
    for name in ("stages", "dvc.yaml", "data/reference.sha256", ".dvc/config", ".dvcignore"):
        src = ROOT / name
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name, *(
            [shutil.ignore_patterns("__pycache__")] if src.is_dir() else []))
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params.update(TINY)
    params["train"].update({"epochs": 2, "crop": 0, "device": "cpu"})
    params["evaluate"]["bootstrap"] = 200
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "RETINA_DATA": str(synthetic_source),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    sh(work, "git", "init", "-q", env=env)
    sh(work, "git", "add", "-A", env=env)
    sh(work, "git", "commit", "-qm", "tiny project", env=env)
    out = sh(work, "dvc", "repro", env=env)
    return work, {"env": env, "first_repro": out}


def test_repro_builds_every_output(project):
    work, ctx = project
    for name in ("baseline", "silu256", "silu256_se"):
        assert (work / "models" / name / "best.pt").is_file()
        assert (work / "reports" / "eval" / name / "per_image.csv").is_file()
        assert (work / "reports" / "train" / name / "plots" / "metrics" / "val" / "accuracy.tsv").is_file()
    report = (work / "reports" / "report.md").read_text()
    assert "| claim of the study | measured in this run | verdict |" in report
    assert report.count("**holds**") + report.count("**does not hold**") + report.count("**not measurable**") == 6
    for fig in ("panels.png", "roc_pr.png", "se_comparison.png", "curves_baseline.png"):
        assert (work / "reports" / "figures" / fig).stat().st_size > 1000
    summary = json.loads((work / "reports" / "eval" / "summary.json").read_text())
    assert set(summary) == {"baseline", "silu256", "silu256_se"}
    assert all(0 <= m["fov_auc_roc"] <= 1 for m in summary.values())


def test_status_is_clean_and_second_repro_does_nothing(project):
    work, ctx = project
    assert "up to date" in sh(work, "dvc", "status", env=ctx["env"])
    assert "Running stage" not in sh(work, "dvc", "repro", env=ctx["env"])


def test_metrics_and_plots_are_declared(project):
    work, ctx = project
    metrics = sh(work, "dvc", "metrics", "show", "--json", env=ctx["env"])
    assert "fov_f1" in metrics and "val" in metrics


def test_changing_the_baseline_activation_retrains_only_the_baseline(project):
    work, ctx = project
    env = ctx["env"]
    sh(work, "git", "add", "-A", env=env)
    sh(work, "git", "commit", "-qm", "results", env=env)
    status = sh(work, "dvc", "status", env=env)
    assert "up to date" in status
    yaml_params = (work / "params.yaml").read_text()
    (work / "params.yaml").write_text(yaml_params.replace("activation: relu", "activation: silu", 1))
    stale = sh(work, "dvc", "status", env=env)
    (work / "params.yaml").write_text(yaml_params)
    assert "train:" in stale and "train_variant@" not in stale and "preprocess" not in stale
    out = sh(work, "dvc", "exp", "run", "--temp", "-n", "silu64", "-S", "activation=silu", env=env)
    assert "Running stage 'train'" in out
    assert "Running stage 'train_variant@" not in out and "Running stage 'preprocess'" not in out
    # the activation-vs-resolution summary finds the experiment beside the committed models
    table = sh(work, sys.executable, "-m", "stages.experiments", env=env)
    assert "| relu @ 64 |" in table and "| silu @ 64 | experiment silu64" in table and "| silu @ 32 |" in table
    assert "| activation ReLU -> SiLU | size 64 | not run" not in table
    assert (work / "reports" / "experiments.md").read_text() in table
