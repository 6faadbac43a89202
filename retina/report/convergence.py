"""The doubling rule: a model is converged at its epochs when the same recipe trained twice as long gains less than
CONVERGED best validation Dice, mean over seeds.

The runs compared are the rows of the cost sweep (benchmarks.cost_sweep, committed under reports/cost_sweep/runs/)
and the pipeline's own runs. Precision and kernels differ between machines, so a seed's curve does too: the two
lengths are compared on one machine where both ran there, over the seeds trained at both; only where no machine ran
both are the runs of all machines pooled per seed.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from retina.config import ModelSpec, Params, TrainSettings
from retina.evaluate.results import Results
from retina.evaluate.statistics import CONVERGED
from retina.summary import markdown_table

# Row defaults for settings that sweep rows recorded only once they could vary: Adam without warm-up or decay.
ROW_DEFAULTS = {"warmup": 0.0, "optimizer": "adam", "weight_decay": 0.0}
RECIPE_KEYS = ("activation", "image_size", "attention", "se_reduction", "input", "camera_augment", "width", "depth",
               "lr", "warmup", "optimizer", "weight_decay", "batch", "crop", "augment", "val_every", "soft", "loss")


def recipe(spec: ModelSpec, settings: TrainSettings) -> dict:
    """What defines a training run apart from its length, seed and machine, under the sweep rows' names."""
    return {"activation": spec.activation, "image_size": spec.image_size, "attention": spec.attention,
            "se_reduction": spec.se_reduction, "input": spec.input, "camera_augment": spec.camera_augment,
            "width": spec.width, "depth": spec.depth, "lr": settings.lr, "warmup": settings.warmup,
            "optimizer": settings.optimizer, "weight_decay": settings.weight_decay, "batch": settings.batch_size,
            "crop": settings.crop, "augment": settings.augment, "val_every": settings.val_every,
            "soft": settings.soft_masks, "loss": settings.loss}


def machine_kind(label: str) -> str:
    """A run's machine without how many jobs shared it ('..., 2 threads, 1 jobs at once' -> '..., 2 threads')."""
    return re.sub(r", \d+ jobs at once$", "", label)


def load_sweep_runs(folder: Path) -> list[dict]:
    """Every row of the sweep's JSON files in `folder` (none when it is absent)."""
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return [row for f in files for row in json.loads(f.read_text())]


@dataclass(frozen=True)
class Doubling:
    """Mean best validation Dice at a model's epochs and at twice them, over the runs paired by seed."""

    epochs: int
    short: float
    long: float
    pairs: int  # (machine, seed) pairs compared, or seeds when pooled
    machines: tuple[str, ...]  # where the lengths were compared
    pooled: bool  # no machine ran both lengths: each seed's runs averaged over `machines`

    @property
    def gain(self) -> float:
        return self.long - self.short

    @property
    def converged(self) -> bool:
        return self.gain < CONVERGED

    def where(self) -> str:
        """The machines compared on, marked when pooled."""
        return "; ".join(self.machines) + (" (pooled)" if self.pooled else "")


def row_recipe(row: dict) -> dict:
    """A sweep row's recipe (None for a key it lacks, Adam's defaults for the optimiser's)."""
    return {k: row.get(k, ROW_DEFAULTS.get(k)) for k in RECIPE_KEYS}


def _same_recipe(row: dict, wanted: dict) -> bool:
    return row_recipe(row) == wanted


def doubling_table(rows: list[dict]) -> str:
    """Markdown: the doubling rule for every model, recipe and length of the rows that also ran twice as long."""
    header = ["model", "experiment -> twice as long", "best val Dice", "gain", "converged", "runs each", "compared on"]
    cells = []
    seen = set()
    for r in sorted(rows, key=lambda r: (r["model"], r["epochs"], r["experiment"])):
        wanted = row_recipe(r)
        key = (r["model"], json.dumps(wanted, sort_keys=True), r["epochs"])
        d = None if key in seen else doubling(rows, r["model"], wanted, r["epochs"])
        seen.add(key)
        if d is None:
            continue
        longer = next(x["experiment"] for x in rows
                      if x["model"] == r["model"] and x["epochs"] == 2 * r["epochs"] and _same_recipe(x, wanted))
        cells.append([r["model"], f"{r['experiment']} -> {longer}", f"{d.short:.4f} -> {d.long:.4f}",
                      f"{d.gain:+.4f}", "yes" if d.converged else "no", d.pairs, d.where()])
    return markdown_table(header, cells)


def doubling(runs: list[dict], model: str, wanted: dict, epochs: int) -> Doubling | None:
    """The doubling rule for `model` trained with recipe `wanted` for `epochs`, from runs (dicts with model, seed,
    epochs, machine, val_dice and the recipe's keys; a missing warm-up, optimiser or decay reads as Adam's
    defaults); None when no seed was trained at both lengths."""
    # (machine, epochs, seed) -> best validation Dice, runs repeated on one machine averaged
    found: dict[tuple[str, int, int], list[float]] = {}
    for r in runs:
        if r["model"] == model and r["epochs"] in (epochs, 2 * epochs) and _same_recipe(r, wanted) \
                and math.isfinite(r["val_dice"]):
            found.setdefault((machine_kind(r["machine"]), r["epochs"], r["seed"]), []).append(r["val_dice"])
    value = {k: _mean(v) for k, v in found.items()}
    pairs = [(machine, seed) for machine, n, seed in value if n == epochs and (machine, 2 * epochs, seed) in value]
    if pairs:
        short = [value[m, epochs, s] for m, s in pairs]
        long = [value[m, 2 * epochs, s] for m, s in pairs]
        machines = {m for m, _ in pairs}
    else:  # no machine ran both lengths: pool each seed's runs over machines
        def pooled(n: int, seed: int) -> float:
            return _mean([v for (_, length, s), v in value.items() if length == n and s == seed])
        seeds = sorted({s for _, n, s in value if n == epochs} & {s for _, n, s in value if n == 2 * epochs})
        if not seeds:
            return None
        short = [pooled(epochs, s) for s in seeds]
        long = [pooled(2 * epochs, s) for s in seeds]
        machines = {m for m, _, s in value if s in seeds}
    return Doubling(epochs, _mean(short), _mean(long), len(short), tuple(sorted(machines)), pooled=not pairs)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def pipeline_runs(res: Results, params: Params) -> list[dict]:
    """The pipeline's own training runs as sweep rows: recipe, length, machine and best validation Dice."""
    rows = []
    for (model, seed), run in sorted(res.runs.items()):
        history = res.histories.get((model, seed))
        if history is None or "val/dice" not in history or not history["val/dice"].notna().any():
            continue
        rows.append({"model": model, "seed": seed, "epochs": run["epochs"],
                     "machine": run.get("machine", run.get("device", "?")),
                     "val_dice": float(history["val/dice"].max()),
                     **recipe(params.models[model], params.train_settings(model, seed))})
    return rows


def doubling_by_model(params: Params, res: Results, sweep: list[dict]) -> dict[str, Doubling | None]:
    """The doubling rule for every model at the recipe and epochs of params.yaml, from the sweep and the pipeline."""
    runs = sweep + pipeline_runs(res, params)
    return {model: doubling(runs, model, recipe(params.models[model], params.train_settings(model, params.training_seeds[0])),
                            params.epochs_of(model)) for model in res.models}
