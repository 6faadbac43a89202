"""Train one U-Net: losses, augmentation, the epoch loop with validation, dvclive logging, checkpoints and resume."""
from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from dvclive import Live

from stages.atomic import atomic_path, write_text
from stages.config import ModelSpec, TrainSettings
from stages.data import Arrays, load_arrays, processed_dir
from stages.errors import TrainingError
from stages.inference import autocast, predict_logits, save_checkpoint, select_device, to_input, use_bf16
from stages.unet import UNet

log = logging.getLogger("train")
METRICS = ("loss", "accuracy", "dice")


def loss_fn(name: str, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """bce, dice (soft, over the batch) or their sum, computed in fp32."""
    logits, target = logits.float(), target.float()
    total = logits.new_zeros(())
    if "bce" in name:
        total = total + F.binary_cross_entropy_with_logits(logits, target)
    if "dice" in name:
        prob = torch.sigmoid(logits)
        total = total + 1 - (2 * (prob * target).sum() + 1) / (prob.sum() + target.sum() + 1)
    return total


@dataclass
class Counts:
    """Running pixel confusion counts and loss for one pass."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    loss_sum: float = 0.0
    batches: int = 0

    def add(self, logits: torch.Tensor, target: torch.Tensor, loss: float) -> None:
        pred, truth = logits > 0, target > 0.5
        self.tp += int((pred & truth).sum())
        self.fp += int((pred & ~truth).sum())
        self.fn += int((~pred & truth).sum())
        self.tn += int((~pred & ~truth).sum())
        self.loss_sum += loss
        self.batches += 1

    def summary(self) -> dict[str, float]:
        total = self.tp + self.fp + self.fn + self.tn
        return {"loss": self.loss_sum / max(self.batches, 1),
                "accuracy": (self.tp + self.tn) / max(total, 1),
                "dice": 2 * self.tp / max(2 * self.tp + self.fp + self.fn, 1)}


def augment_batch(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply one random flip/90-degree rotation (of the 8 symmetries of the square) to a batch and its masks."""
    k, flip = torch.randint(0, 4, (2,), generator=gen).tolist()
    x, y = torch.rot90(x, k, (2, 3)), torch.rot90(y, k, (2, 3))
    if flip % 2:
        x, y = torch.flip(x, (3,)), torch.flip(y, (3,))
    return x, y


def random_crop(images: torch.Tensor, masks: torch.Tensor, size: int,
                gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One random size x size crop per sample of (N,H,W,C) images and (N,1,H,W) masks."""
    h, w = images.shape[1:3]
    if not size or size >= min(h, w):
        return images, masks
    tops = torch.randint(0, h - size + 1, (len(images),), generator=gen).tolist()
    lefts = torch.randint(0, w - size + 1, (len(images),), generator=gen).tolist()
    return (torch.stack([im[t:t + size, l:l + size] for im, t, l in zip(images, tops, lefts)]),
            torch.stack([m[:, t:t + size, l:l + size] for m, t, l in zip(masks, tops, lefts)]))


class Progress:
    """One self-overwriting line per epoch on a terminal; silent otherwise."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.start = label, total, time.perf_counter()
        self.enabled = sys.stderr.isatty()

    def update(self, done: int, images: int, loss: float) -> None:
        if self.enabled:
            rate = images / max(time.perf_counter() - self.start, 1e-9)
            sys.stderr.write(f"\r{self.label} [{done}/{self.total}] loss {loss:.4f} {rate:.1f} img/s")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def fingerprint(spec: ModelSpec, settings: TrainSettings, data_dir: Path) -> str:
    """What a resumed run must share with the interrupted one: model, settings and training data."""
    h = hashlib.sha256(json.dumps([asdict(spec), asdict(settings)], sort_keys=True).encode())
    for name in ("images.npy", "masks.npy"):
        h.update(hashlib.sha256((data_dir / name).read_bytes()).digest())
    return h.hexdigest()


def evaluate_split(model: UNet, arrays: Arrays, settings: TrainSettings, device: torch.device,
                   bf16: bool) -> dict[str, float]:
    """Loss, pixel accuracy and Dice of the model on a whole split (pooled over pixels)."""
    logits = predict_logits(model, arrays.images, device, bf16, settings.batch_size)
    target = torch.from_numpy(arrays.masks).float()
    counts = Counts()
    counts.add(logits, target, float(loss_fn(settings.loss, logits[:, None], target[:, None])))
    return counts.summary()


class Trainer:
    """Train one model of the study from the processed arrays, resumable after an interruption."""

    def __init__(self, spec: ModelSpec, settings: TrainSettings, data_root: Path, model_dir: Path, log_dir: Path,
                 resume_file: Path) -> None:
        self.spec, self.settings = spec, settings
        self.model_dir, self.log_dir, self.resume_file = Path(model_dir), Path(log_dir), Path(resume_file)
        folder = processed_dir(data_root, spec.image_size)
        self.train_data, self.val_data = load_arrays(folder / "train"), load_arrays(folder / "val")
        self.fingerprint = fingerprint(spec, settings, folder / "train")
        self.device = select_device(settings.device)
        self.bf16 = use_bf16(settings.precision, self.device)
        torch.manual_seed(settings.seed)
        self.gen = torch.Generator().manual_seed(settings.seed)
        self.model = UNet.from_spec(spec).to(self.device, memory_format=torch.channels_last)
        self.steps_per_epoch = len(self.train_data) // settings.batch_size
        if self.steps_per_epoch == 0:
            raise TrainingError(f"train.batch_size {settings.batch_size} is larger than the "
                                f"{len(self.train_data)} training images")
        self.opt = torch.optim.Adam(self.model.parameters(), lr=settings.lr)
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, settings.epochs * self.steps_per_epoch)
        self.history: list[dict[str, float]] = []
        self.best = {"val/dice": -1.0, "epoch": -1}
        self.images = torch.from_numpy(self.train_data.images)
        self.masks = torch.from_numpy(self.train_data.masks)[:, None]

    def _state(self) -> dict:
        return {"fingerprint": self.fingerprint, "model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "sched": self.sched.state_dict(), "gen": self.gen.get_state(), "torch_rng": torch.get_rng_state(),
                "history": self.history, "best": self.best}

    def _try_resume(self) -> int:
        """Load the resume state of an interrupted run with the same fingerprint; return the next epoch."""
        if not self.resume_file.is_file():
            return 0
        state = torch.load(self.resume_file, weights_only=False)
        if state.get("fingerprint") != self.fingerprint:
            log.info("%s: resume state is for other settings or data; starting afresh", self.resume_file)
            return 0
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])
        self.gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
        self.history, self.best = state["history"], state["best"]
        log.info("%s: resuming after epoch %d", self.spec.name, len(self.history))
        return len(self.history)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the training images in a seeded random order; returns train loss/accuracy/Dice."""
        s = self.settings
        self.model.train()
        counts = Counts()
        order = torch.randperm(len(self.images), generator=self.gen)
        progress = Progress(f"{self.spec.name} epoch {epoch + 1}/{s.epochs}", self.steps_per_epoch)
        for step in range(self.steps_per_epoch):
            idx = order[step * s.batch_size:(step + 1) * s.batch_size]
            images, target = random_crop(self.images[idx], self.masks[idx], s.crop, self.gen)
            x, target = to_input(images, self.device), target.to(self.device).float()
            if s.augment:
                x, target = augment_batch(x, target, self.gen)
            with autocast(self.device, self.bf16):
                logits = self.model(x.contiguous(memory_format=torch.channels_last))
            loss = loss_fn(s.loss, logits, target)
            if not torch.isfinite(loss):
                raise TrainingError(f"{self.spec.name}: loss is {loss.item()} at epoch {epoch + 1}, step {step + 1}; "
                                    f"stopped. The last good state (epoch {epoch}) is kept in {self.resume_file}")
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.sched.step()
            counts.add(logits.detach().float(), target, loss.item())
            progress.update(step + 1, (step + 1) * s.batch_size, counts.loss_sum / counts.batches)
        progress.close()
        return counts.summary()

    def fit(self) -> dict[str, float]:
        """Train for settings.epochs (resuming if possible); write best.pt, last.pt and the dvclive logs."""
        start_epoch = self._try_resume()
        started = time.perf_counter()
        with Live(str(self.log_dir), dvcyaml=None, save_dvc_exp=False, report=None) as live:
            for row in self.history:  # replay the epochs of an interrupted run so the logs are whole
                self._log(live, row)
            for epoch in range(start_epoch, self.settings.epochs):
                t0 = time.perf_counter()
                row = {f"train/{k}": v for k, v in self.train_epoch(epoch).items()}
                val = evaluate_split(self.model, self.val_data, self.settings, self.device, self.bf16)
                row.update({f"val/{k}": v for k, v in val.items()})
                self.history.append(row)
                if row["val/dice"] > self.best["val/dice"]:
                    self.best = {"val/dice": row["val/dice"], "epoch": epoch + 1}
                    save_checkpoint(self.model_dir / "best.pt", self.model, self.spec, epoch=epoch + 1,
                                    val_dice=row["val/dice"])
                self._save_resume_state()
                self._log(live, row)
                log.info("%s epoch %d/%d (%.1f s): %s", self.spec.name, epoch + 1, self.settings.epochs,
                         time.perf_counter() - t0, " ".join(f"{k} {v:.4f}" for k, v in row.items()))
            live.summary["best"] = {"val_dice": self.best["val/dice"], "epoch": self.best["epoch"]}
        save_checkpoint(self.model_dir / "last.pt", self.model, self.spec, epoch=self.settings.epochs)
        self._write_run_info(time.perf_counter() - started, start_epoch)
        self.resume_file.unlink(missing_ok=True)
        return self.history[-1]

    def _log(self, live: Live, row: dict[str, float]) -> None:
        for key, value in row.items():
            live.log_metric(key, value)
        live.next_step()

    def _save_resume_state(self) -> None:
        with atomic_path(self.resume_file) as tmp:
            torch.save(self._state(), tmp)

    def _write_run_info(self, seconds: float, resumed_from: int) -> None:
        """Facts about this run that are not metrics (they differ between identical runs): time, device."""
        info = {"model": self.spec.name, "device": str(self.device), "bf16": self.bf16,
                "threads": torch.get_num_threads(), "train_seconds": round(seconds, 1),
                "resumed_after_epoch": resumed_from, "epochs": self.settings.epochs,
                "seconds_per_epoch": round(seconds / max(self.settings.epochs - resumed_from, 1), 2)}
        write_text(self.log_dir / "run.json", json.dumps(info, indent=1) + "\n")
