"""Training on tiny synthetic data: the loss falls, runs repeat exactly, an interrupted run resumes to the same
result, and a non-finite loss stops with a clear message."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from stages.config import ModelSpec, TrainSettings
from stages.data import Arrays, save_arrays
from stages.errors import TrainingError
from stages.training import Trainer, loss_fn
from tests.synthetic import fundus

SPEC = ModelSpec("tiny", "silu", 32, "se", width=4, depth=2, se_reduction=2)
SETTINGS = TrainSettings(epochs=4, batch_size=4, lr=0.01, loss="bce+dice", augment=True, crop=0,
                         precision="fp32", device="cpu", seed=0)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    """processed/<32>/{train,val} made from synthetic fundus images at 32x32."""
    root = tmp_path_factory.mktemp("processed")
    for split, seeds in (("train", range(8)), ("val", range(100, 104))):
        pairs = [fundus(s, size=32) for s in seeds]
        arrays = Arrays(images=np.stack([p[0] for p in pairs]),
                        masks=np.stack([(p[1] > 127).astype(np.uint8) for p in pairs]),
                        fov=np.ones((len(pairs), 32, 32), np.uint8), ids=np.arange(len(pairs)))
        save_arrays(arrays, root / "32" / split)
    return root


def run(data_root: Path, out: Path, settings: TrainSettings = SETTINGS, spec: ModelSpec = SPEC) -> Trainer:
    return Trainer(spec, settings, data_root, out / "model", out / "logs", out / "resume.pt")


def test_loss_function_prefers_the_truth():
    target = (torch.rand(1, 1, 8, 8) > 0.7).float()
    good, bad = (target * 2 - 1) * 5, -(target * 2 - 1) * 5
    for name in ("bce", "dice", "bce+dice"):
        assert loss_fn(name, good, target) < loss_fn(name, bad, target)


def test_training_lowers_the_loss_and_writes_checkpoints_and_logs(data_root, tmp_path):
    trainer = run(data_root, tmp_path, dataclasses.replace(SETTINGS, epochs=20))
    trainer.fit()
    losses = [row["train/loss"] for row in trainer.history]
    assert np.mean(losses[-3:]) < losses[0] * 0.8
    assert (tmp_path / "model" / "best.pt").is_file() and (tmp_path / "model" / "last.pt").is_file()
    assert not (tmp_path / "resume.pt").exists()
    summary = json.loads((tmp_path / "logs" / "metrics.json").read_text())
    assert summary["step"] == 19 and set(summary["val"]) == {"loss", "accuracy", "dice"}
    tsv = (tmp_path / "logs" / "plots" / "metrics" / "val" / "dice.tsv").read_text().splitlines()
    assert len(tsv) == 21  # header + one row per epoch


def test_two_runs_with_the_same_seed_are_identical(data_root, tmp_path):
    a = run(data_root, tmp_path / "a")
    a.fit()
    b = run(data_root, tmp_path / "b")
    b.fit()
    assert a.history == b.history


def test_interrupted_run_resumes_to_the_same_result(data_root, tmp_path, monkeypatch):
    reference = run(data_root, tmp_path / "ref")
    reference.fit()

    interrupted = run(data_root, tmp_path / "run")
    original = Trainer.train_epoch

    def stop_at_epoch_3(self, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return original(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", stop_at_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit()
    assert (tmp_path / "run" / "resume.pt").is_file()
    monkeypatch.setattr(Trainer, "train_epoch", original)

    resumed = run(data_root, tmp_path / "run")
    resumed.fit()
    assert resumed.history == reference.history
    info = json.loads((tmp_path / "run" / "logs" / "run.json").read_text())
    assert info["resumed_after_epoch"] == 2
    dice_log = (tmp_path / "run" / "logs" / "plots" / "metrics" / "val" / "dice.tsv").read_text().splitlines()
    assert len(dice_log) == 1 + SETTINGS.epochs


def test_resume_state_of_other_settings_is_ignored(data_root, tmp_path):
    first = run(data_root, tmp_path)
    first.history = [{"train/loss": 1.0}]
    first._save_resume_state()
    assert run(data_root, tmp_path)._try_resume() == 1
    other = run(data_root, tmp_path, dataclasses.replace(SETTINGS, lr=0.005))
    assert other._try_resume() == 0


def test_non_finite_loss_stops_with_epoch_and_step_and_keeps_last_good_state(data_root, tmp_path, monkeypatch):
    trainer = run(data_root, tmp_path)
    original = Trainer.train_epoch

    def poison_after_first_epoch(self, epoch):
        if epoch == 1:
            with torch.no_grad():
                next(self.model.parameters()).fill_(float("nan"))
        return original(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", poison_after_first_epoch)
    with pytest.raises(TrainingError, match=r"loss is nan at epoch 2, step 1"):
        trainer.fit()
    state = torch.load(tmp_path / "resume.pt", weights_only=False)
    assert len(state["history"]) == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert (tmp_path / "model" / "best.pt").is_file()
