"""Training on tiny synthetic data: the loss falls, runs repeat exactly, an interrupted run resumes to the same
result even when its outputs were deleted in between, and a non-finite loss stops with a clear message."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from retina.data.arrays import save_arrays
from retina.config import ModelSpec, TrainSettings
from retina.errors import TrainingError
from retina.train.augment import augment_batch, random_crop
from retina.train.trainer import Counts, Trainer, loss_terms, total_loss
from tests.synthetic import fundus_arrays

SPEC = ModelSpec("tiny", "silu", 32, "se", width=4, depth=2, se_reduction=2)
SETTINGS = TrainSettings(epochs=4, batch_size=4, lr=0.01, loss="bce+dice", augment=True, crop=0, soft_masks=False,
                         val_every=1, precision="fp32", device="cpu", seed=0)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    """processed/<32>/{train,val} made from synthetic fundus images at 32x32."""
    root = tmp_path_factory.mktemp("processed")
    for split, seeds in (("train", range(8)), ("val", range(100, 104))):
        save_arrays(fundus_arrays(seeds, 32), root / "32" / split)
    return root


def run(data_root: Path, out: Path, settings: TrainSettings = SETTINGS, spec: ModelSpec = SPEC) -> Trainer:
    return Trainer(spec, settings, data_root, out / "model", out / "logs", out / "resume.pt")


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state_dict"]


def test_losses_prefer_the_truth_and_bce_is_the_keras_loss():
    target = (torch.rand(1, 1, 8, 8) > 0.7).float()
    good, bad = (target * 2 - 1) * 5, -(target * 2 - 1) * 5
    for name in ("bce", "dice", "bce+dice"):
        assert total_loss(name, loss_terms(good, target)) < total_loss(name, loss_terms(bad, target))
    logits, target = torch.randn(2, 1, 4, 4), (torch.rand(2, 1, 4, 4) > 0.7).float()
    p = torch.sigmoid(logits)
    by_hand = -(target * p.log() + (1 - target) * (1 - p).log()).mean()
    assert float(loss_terms(logits, target)["bce"]) == pytest.approx(float(by_hand), rel=1e-5)


def test_counts_use_the_metrics_module_conventions():
    counts = Counts()
    logits = torch.tensor([[3.0, -2.0, 1.0, -1.0]])
    counts.add(logits, torch.tensor([[1.0, 0.0, 0.0, 1.0]]), loss=0.5, bce=0.25)
    s = counts.summary()  # tp 1, fp 1, fn 1, tn 1
    assert s == {"loss": 0.5, "bce": 0.25, "accuracy": 0.5, "dice": 0.5}
    empty = Counts()
    empty.add(torch.full((1, 4), -5.0), torch.zeros(1, 4), loss=0.0, bce=0.0)
    assert empty.summary()["dice"] == 1.0  # nothing to find, nothing found


def test_random_crop_takes_aligned_crops_of_image_and_mask():
    gen = torch.Generator().manual_seed(0)
    images = torch.arange(2 * 8 * 8 * 3).reshape(2, 8, 8, 3)
    masks = images[..., 0][:, None]  # the mask carries the image's own values: crops must line up
    ci, cm = random_crop(images, masks, 4, gen)
    assert ci.shape == (2, 4, 4, 3) and cm.shape == (2, 1, 4, 4)
    assert torch.equal(ci[..., 0], cm[:, 0])
    for crop, image in zip(ci, images):  # each crop is a contiguous window of its own image
        top, left = divmod(int(crop[0, 0, 0] - image[0, 0, 0]) // 3, 8)
        assert torch.equal(crop, image[top:top + 4, left:left + 4])
    corners = {divmod(int(c[0, 0, 0]) % 192 // 3, 8) for _ in range(10) for c in random_crop(images, masks, 4, gen)[0]}
    assert len(corners) > 5 and all(0 <= t <= 4 and 0 <= l <= 4 for t, l in corners)
    whole = random_crop(images, masks, 0, gen)
    assert whole[0] is images and whole[1] is masks


def test_augmentation_moves_image_and_mask_together():
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(2, 3, 6, 6)
    y = x[:, :1].clone()
    for _ in range(8):
        ax, ay = augment_batch(x, y, gen)
        assert torch.equal(ax[:, :1], ay)


def test_training_lowers_the_loss_and_writes_the_best_checkpoint_and_logs(data_root, tmp_path):
    trainer = run(data_root, tmp_path, dataclasses.replace(SETTINGS, epochs=20))
    trainer.fit()
    losses = [row["train/loss"] for row in trainer.history]
    assert np.mean(losses[-3:]) < losses[0] * 0.8
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["best.pt"]
    assert not (tmp_path / "resume.pt").exists()
    summary = json.loads((tmp_path / "logs" / "metrics.json").read_text())
    assert summary["step"] == 19 and set(summary["val"]) == {"loss", "bce", "accuracy", "dice"}
    assert set(summary["train"]) == {"loss", "bce", "accuracy", "dice"}
    best = torch.load(tmp_path / "model" / "best.pt", weights_only=True)
    dice = [row["val/dice"] for row in trainer.history]
    assert best["epoch"] == int(np.argmax(dice)) + 1 and best["val_dice"] == max(dice) and best["seed"] == 0
    tsv = (tmp_path / "logs" / "plots" / "metrics" / "val" / "dice.tsv").read_text().splitlines()
    assert len(tsv) == 21  # header + one row per epoch


def test_validation_every_k_epochs_and_always_after_the_last(data_root, tmp_path):
    trainer = run(data_root, tmp_path, dataclasses.replace(SETTINGS, epochs=7, val_every=3))
    trainer.fit()
    assert [i + 1 for i, row in enumerate(trainer.history) if "val/dice" in row] == [3, 6, 7]
    assert torch.load(tmp_path / "model" / "best.pt", weights_only=True)["epoch"] in (3, 6, 7)


def test_seeds_differ_and_the_same_seed_repeats_exactly(data_root, tmp_path):
    a = run(data_root, tmp_path / "a")
    a.fit()
    b = run(data_root, tmp_path / "b")
    b.fit()
    c = run(data_root, tmp_path / "c", dataclasses.replace(SETTINGS, seed=1))
    c.fit()
    assert a.history == b.history and a.history != c.history


def input_sides(trainer: Trainer) -> dict[bool, set[tuple[int, int]]]:
    """Record the sides of every input the trainer's model sees, by training (True) or validation (False) mode."""
    seen: dict[bool, set[tuple[int, int]]] = {True: set(), False: set()}
    trainer.model.register_forward_pre_hook(lambda m, args: seen[m.training].add(tuple(args[0].shape[-2:])))
    return seen


def test_crops_and_soft_masks_change_what_is_learned(data_root, tmp_path):
    plain = run(data_root, tmp_path / "plain")
    plain_sides = input_sides(plain)
    plain.fit()
    cropped = run(data_root, tmp_path / "crop", dataclasses.replace(SETTINGS, crop=16))
    cropped_sides = input_sides(cropped)
    cropped.fit()
    assert plain_sides == {True: {(32, 32)}, False: {(32, 32)}}
    assert cropped_sides == {True: {(16, 16)}, False: {(32, 32)}}  # trained on crops, validated on whole images
    soft = run(data_root, tmp_path / "soft", dataclasses.replace(SETTINGS, soft_masks=True))
    soft.fit()
    assert cropped.history != plain.history and soft.history != plain.history
    # what each learns from: the binary masks, or the area-averaged grey ones with their fractional edges
    assert torch.equal(plain.masks[:, 0], torch.from_numpy(plain.train_data.masks) * 255)
    assert torch.equal(soft.masks[:, 0], torch.from_numpy(soft.train_data.soft))
    assert ((soft.masks > 0) & (soft.masks < 255)).float().mean() > 0.01


@pytest.mark.parametrize("stop_at, settings", [
    (1, SETTINGS), (3, SETTINGS),
    (1, dataclasses.replace(SETTINGS, warmup=0.4, optimizer="adamw", weight_decay=0.01)),  # stops in the warm-up
])
def test_interrupted_run_resumes_to_identical_outputs_after_its_outputs_were_removed(data_root, tmp_path,
                                                                                   monkeypatch, stop_at, settings):
    reference = run(data_root, tmp_path / "ref", settings)
    reference.fit()

    interrupted = run(data_root, tmp_path / "run", settings)
    original = Trainer.train_epoch

    def stop(self, epoch):
        if epoch == stop_at:
            raise KeyboardInterrupt
        return original(self, epoch)

    monkeypatch.setattr(Trainer, "train_epoch", stop)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit()
    assert (tmp_path / "run" / "resume.pt").is_file()
    monkeypatch.setattr(Trainer, "train_epoch", original)
    shutil.rmtree(tmp_path / "run" / "model", ignore_errors=True)  # what `dvc repro` does before a rerun
    shutil.rmtree(tmp_path / "run" / "logs", ignore_errors=True)

    resumed = run(data_root, tmp_path / "run", settings)
    resumed.fit()
    assert resumed.history == reference.history
    got, want = weights(tmp_path / "run" / "model" / "best.pt"), weights(tmp_path / "ref" / "model" / "best.pt")
    assert all(torch.equal(got[k], want[k]) for k in want)
    assert (torch.load(tmp_path / "run" / "model" / "best.pt", weights_only=True)["epoch"]
            == torch.load(tmp_path / "ref" / "model" / "best.pt", weights_only=True)["epoch"])
    info = json.loads((tmp_path / "run" / "logs" / "run.json").read_text())
    assert info["resumed_after_epoch"] == stop_at
    for log in ("val/dice.tsv", "train/bce.tsv"):
        assert ((tmp_path / "run" / "logs" / "plots" / "metrics" / log).read_text()
                == (tmp_path / "ref" / "logs" / "plots" / "metrics" / log).read_text())


def test_resume_state_of_other_settings_or_seed_is_ignored(data_root, tmp_path):
    first = run(data_root, tmp_path)
    first.history = [{"train/loss": 1.0}]
    first._save_resume_state()
    assert run(data_root, tmp_path)._try_resume() == 1
    assert run(data_root, tmp_path, dataclasses.replace(SETTINGS, lr=0.005))._try_resume() == 0
    assert run(data_root, tmp_path, dataclasses.replace(SETTINGS, seed=5))._try_resume() == 0
    (tmp_path / "resume.pt").write_bytes(b"truncated")
    assert run(data_root, tmp_path)._try_resume() == 0


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
    assert len(state["history"]) == 1 and state["best"]["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert not (tmp_path / "model" / "best.pt").exists()  # written only when training completes
