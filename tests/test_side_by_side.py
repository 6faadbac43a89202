"""Training stages run side by side and committed give what `dvc repro` gives, and DVC sees them as done; a stage that
fails is named with its log, left uncommitted and resumes when rerun."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import clone, same_checkpoint, sh


def test_side_by_side_retrains_what_is_stale_exactly_as_repro_did_and_dvc_sees_it_done(project, tmp_path, env):
    work = Path(shutil.copytree(project, tmp_path / "project", symlinks=True))
    shutil.rmtree(work / "models" / "baseline")  # both baseline stages are now out of date, nothing else
    stale = sh(work, "dvc", "status", env=env)
    assert "train@0:" in stale and "train@1:" in stale and "train_variant@" not in stale
    typo = subprocess.run([sys.executable, "-m", "tools.train_side_by_side", "--only", "train@1", "train_varaint@*"],
                          cwd=work, env=env, capture_output=True, text=True)
    assert typo.returncode == 1 and "no training stage is named like train_varaint@*" in typo.stderr
    # one stage, then the other: the order DVC lists them in models/baseline/.gitignore (which .dvcignore leaves out
    # of the models folder that evaluation reads) is then the reverse of a plain `dvc repro`'s
    out = sh(work, sys.executable, "-m", "tools.train_side_by_side", "--only", "train@1", "tra*_variant@*", env=env)
    assert "trained and committed 1 stages: train@1" in out
    stale = sh(work, "dvc", "status", env=env)
    assert "train@0:" in stale and "train@1:" not in stale
    out = sh(work, sys.executable, "-m", "tools.train_side_by_side", "--jobs", "2", env=env)
    assert "trained and committed 1 stages: train@0" in out
    # identical checkpoints: evaluate stays up to date (the report reruns when the logs' training times differ)
    after = sh(work, "dvc", "status", env=env)
    assert "train@" not in after and "evaluate:" not in after
    rest = sh(work, "dvc", "repro", env=env)
    assert "Running stage 'train" not in rest and "Running stage 'evaluate'" not in rest
    assert "up to date" in sh(work, "dvc", "status", env=env)
    for seed in (0, 1):
        run = Path("models") / "baseline" / f"seed{seed}" / "best.pt"
        assert same_checkpoint(work / run, project / run)
    assert "none (all up to date)" in sh(work, sys.executable, "-m", "tools.train_side_by_side", env=env)


def test_side_by_side_refuses_to_train_on_data_that_is_out_of_date(source_repo, tmp_path, env):
    work = clone(source_repo, tmp_path / "project", env)
    refused = subprocess.run([sys.executable, "-m", "tools.train_side_by_side"], cwd=work, env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "run `dvc repro preprocess` first" in refused.stderr
    assert not (work / "models").exists()


def test_a_failing_stage_is_named_with_its_log_and_left_uncommitted_the_others_committed(project, tmp_path, env):
    work = Path(shutil.copytree(project, tmp_path / "project", symlinks=True))
    shutil.rmtree(work / "models" / "baseline")
    (work / "models" / "baseline").mkdir()
    (work / "models" / "baseline" / "seed1").write_text("a file where train@1 writes its checkpoint folder")
    failed = subprocess.run([sys.executable, "-m", "tools.train_side_by_side", "--only", "train@*", "--jobs", "2"],
                            cwd=work, env=env, capture_output=True, text=True)
    log = Path(".dvc/tmp/side_by_side/train@1.log")
    assert failed.returncode == 1
    assert f"training stages failed: train@1 (exit 1, log {log}); the others are committed" in failed.stderr
    assert "seed1" in (work / log).read_text()  # the log says what went wrong
    assert (work / "models" / ".resume" / "baseline-seed1.pt").is_file()  # kept, so a rerun resumes
    stale = sh(work, "dvc", "status", env=env)
    assert "train@1:" in stale and "train@0:" not in stale
    (work / "models" / "baseline" / "seed1").unlink()
    out = sh(work, sys.executable, "-m", "tools.train_side_by_side", env=env)
    assert "trained and committed 1 stages: train@1" in out
    epochs = yaml.safe_load((work / "params.yaml").read_text())["train"]["default_epochs"]
    run = json.loads((work / "reports" / "train" / "baseline" / "seed1" / "run.json").read_text())
    assert run["resumed_after_epoch"] == epochs  # it trained to the end before failing, and resumed from there
    best = Path("models") / "baseline" / "seed1" / "best.pt"
    assert same_checkpoint(work / best, project / best)
