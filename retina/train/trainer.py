"""Train one U-Net for one seed: losses, augmentation, the epoch loop with validation, dvclive logging, the best
checkpoint, and a resume state that survives DVC removing the stage's outputs."""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import pickle
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from dvclive import Live
from tqdm import tqdm

from retina.data.arrays import Arrays, load_arrays, processed_dir
from retina.atomic import atomic_path, write_text
from retina.train.augment import augment_batch, camera_shift, random_crop
from retina.config import ModelSpec, TrainSettings
from retina.errors import TrainingError
from retina.train.batched_prediction import predict_logits
from retina.train.checkpoint import save_checkpoint
from retina.train.device import autocast, select_device, to_input, training_layout, use_bf16
from retina.machine import describe
from retina.metrics import threshold_scores
from retina.train.model import UNet
from retina.train.optimisation import make_optimizer, make_schedule

log = logging.getLogger("train")
BEST = "best.pt"


def loss_terms(logits: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """Binary cross-entropy and soft Dice loss (over the batch), in fp32; targets may be soft (0..1)."""
    logits, target = logits.float(), target.float()
    prob = torch.sigmoid(logits)
    return {"bce": F.binary_cross_entropy_with_logits(logits, target),
            "dice": 1 - (2 * (prob * target).sum() + 1) / (prob.sum() + target.sum() + 1)}


def total_loss(name: str, terms: dict[str, torch.Tensor]) -> torch.Tensor:
    """The training loss `bce`, `dice` or `bce+dice` (their sum) from :func:`loss_terms`."""
    return sum(terms[part] for part in name.split("+"))


@dataclass
class Counts:
    """Running pixel confusion counts and losses of one pass; accuracy and Dice come from retina.metrics."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    loss_sum: float = 0.0
    bce_sum: float = 0.0
    batches: int = 0

    def add(self, logits: torch.Tensor, target: torch.Tensor, loss: float, bce: float) -> None:
        pred, truth = logits > 0, target > 0.5
        tp, fp, fn = int((pred & truth).sum()), int((pred & ~truth).sum()), int((~pred & truth).sum())
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
        self.tn += pred.numel() - tp - fp - fn
        self.loss_sum += loss
        self.bce_sum += bce
        self.batches += 1

    def summary(self) -> dict[str, float]:
        scores = threshold_scores(self.tp, self.fp, self.fn, self.tn)
        n = max(self.batches, 1)
        return {"loss": self.loss_sum / n, "bce": self.bce_sum / n, "accuracy": scores["accuracy"],
                "dice": scores["f1"]}


def fingerprint(spec: ModelSpec, settings: TrainSettings, data_dir: Path) -> str:
    """What a resumed run must share with the interrupted one: model, settings (seed included) and training data."""
    h = hashlib.sha256(json.dumps([asdict(spec), asdict(settings)], sort_keys=True).encode())
    for name in ("images.npy", "masks.npy", "soft.npy"):
        h.update(hashlib.sha256((data_dir / name).read_bytes()).digest())
    return h.hexdigest()


def evaluate_split(model: UNet, arrays: Arrays, loss: str, device: torch.device, bf16: bool,
                   batch_size: int) -> dict[str, float]:
    """Loss, BCE, pixel accuracy and Dice of the model on a whole split (pooled over pixels)."""
    logits = predict_logits(model, arrays.images, device, bf16, batch_size)[:, None]
    target = torch.from_numpy(arrays.masks).float()[:, None]
    terms = loss_terms(logits, target)
    counts = Counts()
    counts.add(logits, target, float(total_loss(loss, terms)), float(terms["bce"]))
    return counts.summary()


class Trainer:
    """Train one model of the study for one seed from the processed arrays, resumable after an interruption.

    Outputs: model_dir/best.pt (the weights of the best validation Dice), log_dir (dvclive logs and run.json).
    The resume state holds everything those outputs need, the best weights included, so a run killed at any point
    and rerun (even after DVC removed its outputs) writes exactly what an uninterrupted run writes. The logs are
    written beside the resume state and replace log_dir only when the run ends: until then the previous run's
    outputs (committed to git) stay in place, whatever stops this one.
    """

    def __init__(self, spec: ModelSpec, settings: TrainSettings, data_root: Path, model_dir: Path, log_dir: Path,
                 resume_file: Path) -> None:
        self.spec, self.settings = spec, settings
        self.model_dir, self.log_dir, self.resume_file = Path(model_dir), Path(log_dir), Path(resume_file)
        self.scratch_logs = self.resume_file.with_name(self.resume_file.stem + "-logs")
        folder = processed_dir(data_root, spec.image_size, spec.input)
        self.train_data, self.val_data = load_arrays(folder / "train"), load_arrays(folder / "val")
        self.fingerprint = fingerprint(spec, settings, folder / "train")
        self.device = select_device(settings.device)
        self.bf16 = use_bf16(settings.precision, self.device)
        self.layout = training_layout(self.device, self.bf16)
        torch.manual_seed(settings.seed)
        self.gen = torch.Generator().manual_seed(settings.seed)
        self.model = UNet.from_spec(spec).to(self.device, memory_format=self.layout)
        self.steps_per_epoch = len(self.train_data) // settings.batch_size
        if self.steps_per_epoch == 0:
            raise TrainingError(f"train.batch_size {settings.batch_size} is larger than the "
                                f"{len(self.train_data)} training images")
        self.opt = make_optimizer(self.model.parameters(), settings)
        self.sched = make_schedule(self.opt, settings, settings.epochs * self.steps_per_epoch)
        self.history: list[dict[str, float]] = []
        self.best: dict = {"val/dice": -1.0, "epoch": -1, "state_dict": None}
        self.images = torch.from_numpy(self.train_data.images)
        target = self.train_data.soft if settings.soft_masks else self.train_data.masks * 255
        self.masks = torch.from_numpy(target)[:, None]  # grey 0..255, scaled to 0..1 per batch

    def _state(self) -> dict:
        return {"fingerprint": self.fingerprint, "model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "sched": self.sched.state_dict(), "gen": self.gen.get_state(), "torch_rng": torch.get_rng_state(),
                "history": self.history, "best": self.best}

    def _try_resume(self) -> int:
        """Load the resume state of an interrupted run with the same fingerprint; return the next epoch."""
        if not self.resume_file.is_file():
            return 0
        try:
            state = torch.load(self.resume_file, weights_only=False)
        except (RuntimeError, EOFError, OSError, pickle.UnpicklingError) as exc:
            log.warning("%s: unreadable resume state (%s); starting afresh", self.resume_file, exc)
            return 0
        if state.get("fingerprint") != self.fingerprint:
            log.info("%s: resume state is for other settings or data; starting afresh", self.resume_file)
            return 0
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])
        self.gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
        self.history, self.best = state["history"], state["best"]
        log.info("%s seed %d: resuming after epoch %d", self.spec.name, self.settings.seed, len(self.history))
        return len(self.history)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the training images in a seeded random order; returns train loss/BCE/accuracy/Dice."""
        s = self.settings
        self.model.train()
        counts = Counts()
        order = torch.randperm(len(self.images), generator=self.gen)
        label = f"{self.spec.name} seed {s.seed} epoch {epoch + 1}/{s.epochs}"
        progress = tqdm(total=self.steps_per_epoch, desc=label, unit="step", leave=False,
                        disable=not sys.stderr.isatty())  # a progress bar on a terminal only
        for step in range(self.steps_per_epoch):
            idx = order[step * s.batch_size:(step + 1) * s.batch_size]
            images, target = random_crop(self.images[idx], self.masks[idx], s.crop, self.gen)
            x, target = to_input(images, self.device, self.layout), target.to(self.device).float().div_(255.0)
            if s.augment:
                x, target = augment_batch(x, target, self.gen)
            if self.spec.camera_augment:
                x, target = camera_shift(x, target, self.gen)
            with autocast(self.device, self.bf16):
                logits = self.model(x.contiguous(memory_format=self.layout))
            terms = loss_terms(logits, target)
            loss = total_loss(s.loss, terms)
            if not torch.isfinite(loss):
                raise TrainingError(f"{self.spec.name}: loss is {loss.item()} at epoch {epoch + 1}, step {step + 1}; "
                                    f"stopped. The last good state (epoch {epoch}) is kept in {self.resume_file}")
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.sched.step()
            counts.add(logits.detach().float(), target, loss.item(), terms["bce"].item())
            progress.set_postfix(loss=f"{counts.loss_sum / counts.batches:.4f}", refresh=False)
            progress.update()
        progress.close()
        return counts.summary()

    def validates(self, epoch: int) -> bool:
        """Whether epoch (0-based) ends with a validation: every train.val_every epochs, and always the last."""
        return (epoch + 1) % self.settings.val_every == 0 or epoch + 1 == self.settings.epochs

    def fit(self) -> dict[str, float]:
        """Train for settings.epochs (resuming if possible); write best.pt, the dvclive logs and run.json."""
        start_epoch = self._try_resume()
        started = time.perf_counter()
        shutil.rmtree(self.scratch_logs, ignore_errors=True)
        with Live(str(self.scratch_logs), dvcyaml=None, save_dvc_exp=False, report=None) as live:
            for row in self.history:  # replay the epochs of an interrupted run so the logs are whole
                self._log(live, row)
            for epoch in range(start_epoch, self.settings.epochs):
                t0 = time.perf_counter()
                row = {f"train/{k}": v for k, v in self.train_epoch(epoch).items()}
                if self.validates(epoch):
                    val = evaluate_split(self.model, self.val_data, self.settings.loss, self.device, self.bf16,
                                         self.settings.batch_size)
                    row.update({f"val/{k}": v for k, v in val.items()})
                    if row["val/dice"] > self.best["val/dice"]:
                        self.best = {"val/dice": row["val/dice"], "epoch": epoch + 1,
                                     "state_dict": copy.deepcopy(self.model.state_dict())}
                self.history.append(row)
                self._save_resume_state()
                self._log(live, row)
                log.info("%s seed %d epoch %d/%d (%.1f s): %s", self.spec.name, self.settings.seed, epoch + 1,
                         self.settings.epochs, time.perf_counter() - t0,
                         " ".join(f"{k} {v:.4f}" for k, v in row.items()))
            live.summary["best"] = {"val_dice": self.best["val/dice"], "epoch": self.best["epoch"]}
        self._write_run_info(time.perf_counter() - started, start_epoch)
        missing = [p for p in (self.scratch_logs / "metrics.json", self.scratch_logs / "run.json") if not p.is_file()]
        if missing:
            raise TrainingError(f"{self.spec.name}: training ended without {missing[0]}; the resume state is kept")
        save_checkpoint(self.model_dir / BEST, self.best["state_dict"], self.spec, seed=self.settings.seed,
                        epoch=self.best["epoch"], val_dice=self.best["val/dice"])
        with atomic_path(self.log_dir) as tmp:
            shutil.move(self.scratch_logs, tmp)
        self.resume_file.unlink(missing_ok=True)
        return self.history[-1]

    @property
    def epochs_done(self) -> int:
        """Epochs completed (and kept in the resume state) so far."""
        return len(self.history)

    def _log(self, live: Live, row: dict[str, float]) -> None:
        for key, value in row.items():
            live.log_metric(key, value)
        live.next_step()

    def _save_resume_state(self) -> None:
        with atomic_path(self.resume_file) as tmp:
            torch.save(self._state(), tmp)

    def _write_run_info(self, seconds: float, resumed_from: int) -> None:
        """Facts about this run that are not metrics (they differ between identical runs): time, machine."""
        info = {"model": self.spec.name, "seed": self.settings.seed, "device": str(self.device),
                "machine": describe(self.device), "bf16": self.bf16, "train_seconds": round(seconds, 1),
                "resumed_after_epoch": resumed_from, "epochs": self.settings.epochs,
                "seconds_per_epoch": round(seconds / max(self.settings.epochs - resumed_from, 1), 2)}
        write_text(self.scratch_logs / "run.json", json.dumps(info, indent=1) + "\n")


def train_scratch(spec: ModelSpec, settings: TrainSettings, data_root: Path, folder: Path,
                  fresh: bool = False) -> Trainer:
    """Train one run outside the pipeline, as its stage would, in a scratch folder: folder/model/best.pt,
    folder/logs (run.json among them) and folder/resume.pt. An interrupted run resumes unless `fresh`."""
    trainer = Trainer(spec, settings, data_root, folder / "model", folder / "logs", folder / "resume.pt")
    if fresh:
        trainer.resume_file.unlink(missing_ok=True)
    trainer.fit()
    return trainer
