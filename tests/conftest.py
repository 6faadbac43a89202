"""Shared fixtures: a synthetic data set made once per session, and the real one when RETINA_DATA is set."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from retina.config import load_params
from tests.synthetic import write_dataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def synthetic_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete synthetic set (80 train / 20 test, 512x512) in the Kaggle layout; treat as read-only."""
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
def real_source() -> Path:
    """The real Retina Blood Vessel set, or skip when RETINA_DATA is not set."""
    value = os.environ.get("RETINA_DATA")
    if not value or not Path(value).is_dir():
        pytest.skip("RETINA_DATA is not set to a local copy of the real data set")
    return Path(value)
