"""The study's figures, drawn with matplotlib (Agg): training curves, prediction panels, SE comparison, ROC/PR."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from retina.data.arrays import Arrays, load_array  # noqa: E402
from retina.config import Params, run_dir  # noqa: E402
from retina.evaluate.results import Results  # noqa: E402
from retina.metrics import dequantise  # noqa: E402

DPI = 100


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def training_curves(histories: dict[int, pd.DataFrame], title: str, path: Path) -> Path:
    """Loss, binary cross-entropy, accuracy and Dice per epoch for one model: one colour per seed, train solid,
    validation dashed (validations only where they happened)."""
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
    for ax, metric in zip(axes, ("loss", "bce", "accuracy", "dice")):
        for colour, (seed, history) in enumerate(histories.items()):
            for split, style in (("train", "-"), ("val", "--")):
                column = f"{split}/{metric}"
                if column in history:
                    values = history[column].dropna()
                    ax.plot(values.index + 1, values, style, color=f"C{colour}", label=f"{split}, seed {seed}")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
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


PANEL_IMAGES = (0, 7, 14)  # test images shown side by side for every model
ZOOM = (slice(160, 320), slice(300, 460))  # a region with fine vessels, for the SE comparison


def draw_figures(params: Params, res: Results, eval_root: Path, predictions: Path, test: Arrays,
                 folder: Path) -> dict[str, str]:
    """Write every figure of the report into `folder`; return {title: path relative to reports/}.

    Prediction panels show each model's first training seed (one real model, not an average of seeds)."""
    seed = params.training_seeds[0]
    models = [m for m in res.models if (predictions / f"{run_dir(m, seed)}.npy").is_file()]
    images = test.images.astype(np.float32) / 255
    probs = {m: dequantise(load_array(predictions / f"{run_dir(m, seed)}.npy")) for m in models}
    figures = {}
    for m in res.models:
        spec = params.models[m]
        title = f"{m}: {spec.activation}, {spec.image_size}x{spec.image_size}, attention {spec.attention}"
        training_curves({s: res.histories[(m, s)] for s in res.seeds if (m, s) in res.histories}, title,
                        folder / f"curves_{m}.png")
        figures[f"Training curves, {m}"] = f"figures/curves_{m}.png"
    ids = [i for i in PANEL_IMAGES if i < len(images)]
    prediction_panels(images, test.masks, {f"{m} (seed {seed})": p for m, p in probs.items()}, ids,
                      folder / "panels.png")
    figures["Original / predictions / ground truth"] = "figures/panels.png"
    if {"silu256", "silu256_se"} <= set(probs):
        comparison(images[0], test.masks[0], ("silu256", probs["silu256"][0]), ("silu256_se", probs["silu256_se"][0]),
                   params.threshold, ZOOM, folder / "se_comparison.png")
        figures[f"SE vs no SE, test image 0, seed {seed}"] = "figures/se_comparison.png"
    curves = {m: {"roc": pd.read_csv(eval_root / m / "roc.csv"), "pr": pd.read_csv(eval_root / m / "pr.csv")}
              for m in res.models if (eval_root / m / "roc.csv").is_file()}
    roc_pr(curves, folder / "roc_pr.png")
    figures["ROC and precision-recall (pixels of all seeds pooled)"] = "figures/roc_pr.png"
    return figures
