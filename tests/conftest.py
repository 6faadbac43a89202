"""Shared fixtures: a synthetic data set made once per session, the real one when RETINA_DATA is set, and a tiny
copy of the whole DVC project (tiny models on the synthetic set), run once per session by `dvc repro`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from retina.config import ModelSpec, load_params
from retina.train.checkpoint import save_checkpoint
from retina.train.model import UNet
from tests.synthetic import write_dataset, write_drive_second_annotator, write_labelled_set

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_ENV = "RETINA_REQUIRE"  # e.g. data,drive,stare,chromium: these inputs must be here (CI sets it)


def unavailable(resource: str, reason: str) -> None:
    """Skip a test whose input is not on this machine, or fail it where $RETINA_REQUIRE names that input: on CI the
    shared data and Chromium are always there, and a skip there would hide a broken path."""
    if resource in os.environ.get(REQUIRE_ENV, "").split(","):
        pytest.fail(f"{reason}, but ${REQUIRE_ENV} requires {resource}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def synthetic_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic set (tests.synthetic.COUNTS, 512x512) in the Kaggle layout; treat as read-only."""
    return write_dataset(tmp_path_factory.mktemp("synthetic") / "Data")


@pytest.fixture
def source_copy(synthetic_source: Path, tmp_path: Path) -> Path:
    """A private copy of the synthetic set that a test may damage."""
    return Path(shutil.copytree(synthetic_source, tmp_path / "source"))


@pytest.fixture
def params():
    """The project's params.yaml, validated."""
    return load_params(ROOT / "params.yaml")


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    """An untrained tiny model (ReLU, 64x64, SE) saved as a checkpoint."""
    spec = ModelSpec("tiny", "relu", 64, "se", width=4, depth=2, se_reduction=2)
    path = tmp_path / "models" / "tiny" / "best.pt"
    save_checkpoint(path, UNet.from_spec(spec).state_dict(), spec, epoch=1)
    return path


@pytest.fixture
def real_source() -> Path:
    """The real Retina Blood Vessel set, or skip when RETINA_DATA is not set."""
    value = os.environ.get("RETINA_DATA")
    if not value or not Path(value).is_dir():
        unavailable("data", "RETINA_DATA is not set to a local copy of the real data set")
    return Path(value)


TINY = {"model": {"width": 4, "depth": 2, "se_reduction": 2}, "image_size": 64, "training_seeds": [0, 1],
        "variants": {"silu256": {"activation": "silu", "image_size": 32, "attention": "none"},
                     "silu256_se": {"activation": "silu", "image_size": 32, "attention": "se"},
                     "camera_robust": {"activation": "relu", "image_size": 64, "attention": "none", "input": "clahe",
                                       "camera_augment": True, "epochs": 8}}}
MODELS = ("baseline", "silu256", "silu256_se", "camera_robust")
COPY = ("retina", "stages", "tools", "dvc.yaml", "data/reference.sha256", ".dvc/config", ".dvcignore", ".gitignore",
        "reports/cost_sweep/runs")


def sh(cwd: Path, *args: str, env: dict) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="session")
def other_camera(tmp_path_factory) -> Path:
    """A small labelled set from 'another camera' (STARE's layout), scored by the tiny project's cross_camera stage."""
    return write_labelled_set(tmp_path_factory.mktemp("other-camera") / "set")


@pytest.fixture(scope="session")
def env(synthetic_source, tmp_path_factory) -> dict:
    """The tiny project's environment: the synthetic set and a DRIVE-layout second annotator of its test images, so
    every optional part of the pipeline runs."""
    drive = write_drive_second_annotator(tmp_path_factory.mktemp("drive"), synthetic_source)
    return {**os.environ, "RETINA_DATA": str(synthetic_source), "RETINA_DRIVE": str(drive),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


@pytest.fixture(scope="session")
def source_repo(tmp_path_factory, env, other_camera) -> Path:
    """A copy of the project with tiny params, committed to git, not yet run."""
    work = tmp_path_factory.mktemp("source")
    for name in COPY:
        src = ROOT / name
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name, *(
            [shutil.ignore_patterns("__pycache__")] if src.is_dir() else []))
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params.update(TINY)
    params["train"].update({"default_epochs": 6, "crop": 0, "device": "cpu", "precision": "fp32"})
    params["evaluate"]["bootstrap"] = 200
    params["data"]["val_eyes"] = 1  # of the synthetic set's 4 eyes
    params["other_cameras"] = {"other": {"path": str(other_camera), "fov_degrees": 45},  # scored
                               "absent": {"path": str(other_camera.parent / "absent"), "fov_degrees": 30}}
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh(work, "git", "init", "-q", env=env)
    sh(work, "git", "add", "-A", env=env)
    sh(work, "git", "commit", "-qm", "tiny project", env=env)
    return work


def same_checkpoint(a: Path, b: Path) -> bool:
    """Whether two checkpoints hold the same best epoch and bit-identical weights."""
    x, y = (torch.load(p, weights_only=True) for p in (a, b))
    return x["epoch"] == y["epoch"] and all(torch.equal(x["state_dict"][k], y["state_dict"][k]) for k in y["state_dict"])


def clone(source: Path, dest: Path, env: dict) -> Path:
    sh(dest.parent, "git", "clone", "-q", str(source), dest.name, env=env)
    return dest


@pytest.fixture(scope="session")
def project(source_repo, tmp_path_factory, env) -> Path:
    """A clone of the tiny project after one uninterrupted `dvc repro`, its results (weights included) committed to
    git; tests that change it work on a copy or a clone."""
    work = clone(source_repo, tmp_path_factory.mktemp("reference") / "project", env)
    sh(work, "dvc", "repro", env=env)
    sh(work, "git", "add", "-A", env=env)
    sh(work, "git", "commit", "-qm", "results", env=env)
    return work


END_TO_END = {"project", "source_repo", "env", "other_camera"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that run DVC on the tiny project as `pipeline`: `pytest -m "not pipeline"` leaves them out."""
    for item in items:
        if END_TO_END & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pipeline)
