"""The study's figures, drawn with matplotlib (Agg): training curves, prediction panels, SE comparison, ROC/PR."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DPI = 100


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def training_curves(history: pd.DataFrame, title: str, path: Path) -> Path:
    """Loss, accuracy and Dice per epoch, train and validation, for one model."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    epochs = np.arange(1, len(history) + 1)
    for ax, metric in zip(axes, ("loss", "accuracy", "dice")):
        for split, style in (("train", "-"), ("val", "--")):
            ax.plot(epochs, history[f"{split}/{metric}"], style, label=split)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title, y=1.03)
    return _save(fig, path)


def prediction_panels(images: np.ndarray, truths: np.ndarray, predictions: dict[str, np.ndarray],
                      ids: list[int], path: Path) -> Path:
    """One row per test image: original, each model's probability map, ground truth."""
    cols = 2 + len(predictions)
    fig, axes = plt.subplots(len(ids), cols, figsize=(2.6 * cols, 2.6 * len(ids)), squeeze=False)
    for row, i in enumerate(ids):
        panels = [("original", images[i], None), *((name, p[i], "gray") for name, p in predictions.items()),
                  ("ground truth", truths[i], "gray")]
        for ax, (name, img, cmap) in zip(axes[row], panels):
            ax.imshow(img, cmap=cmap, vmin=0, vmax=1 if cmap else None)
            ax.set_title(f"{name} (test {i})" if row == 0 or name == "original" else name, fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    return _save(fig, path)


def comparison(image: np.ndarray, truth: np.ndarray, a: tuple[str, np.ndarray], b: tuple[str, np.ndarray],
               threshold: float, box: tuple[slice, slice], path: Path) -> Path:
    """Two models side by side on one image, whole and zoomed, with their errors coloured
    (green: found vessel, red: false vessel, blue: missed vessel)."""
    fig, axes = plt.subplots(2, 4, figsize=(12, 6))
    for row, sl in enumerate(((slice(None), slice(None)), box)):
        axes[row, 0].imshow(image[sl])
        axes[row, 0].set_title("original" + (" (zoom)" if row else ""), fontsize=9)
        for ax, (name, prob) in zip(axes[row, 1:3], (a, b)):
            pred, gt = prob[sl] > threshold, truth[sl].astype(bool)
            rgb = np.zeros(pred.shape + (3,))
            rgb[..., 0] = pred & ~gt
            rgb[..., 1] = pred & gt
            rgb[..., 2] = ~pred & gt
            ax.imshow(rgb)
            ax.set_title(f"{name}: green hit, red false, blue missed", fontsize=8)
        axes[row, 3].imshow(truth[sl], cmap="gray")
        axes[row, 3].set_title("ground truth", fontsize=9)
        for ax in axes[row]:
            ax.axis("off")
    fig.tight_layout()
    return _save(fig, path)


def roc_pr(curves: dict[str, pd.DataFrame], path: Path) -> Path:
    """ROC and precision-recall curves of every model (pixels inside the field of view)."""
    fig, (roc, pr) = plt.subplots(1, 2, figsize=(10, 4))
    for name, c in curves.items():
        roc.plot(c["roc"]["fpr"], c["roc"]["tpr"], label=name)
        pr.plot(c["pr"]["recall"], c["pr"]["precision"], label=name)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (inside FOV)")
    pr.set(xlabel="recall", ylabel="precision", title="Precision-recall (inside FOV)")
    for ax in (roc, pr):
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(fig, path)
