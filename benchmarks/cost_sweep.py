"""The cost sweep: what a training setting costs and what it buys, as one job per (setting, model, seed), where a DVC
experiment would run the whole pipeline (every model, evaluation with bootstrap and vessel measurements) per setting.
On a 2-core CPU run it with --jobs 1: each row's seconds are then one run's real cost on that CPU; on a GPU, jobs side
by side share it.

    retina-cost-sweep run --data data/processed --out /tmp/grid [--jobs 8] [--seeds 0 1]
    retina-cost-sweep table /tmp/grid/rows.json [more rows.json ...] > reports/cost_sweep.md

Each job trains one model of params.yaml (--models: baseline and silu256 unless named) with the setting's overrides
of model.width, model.depth or the train settings (epochs, lr, warmup, optimizer, weight_decay, loss, batch_size,
crop), as the train stage would (retina.train.trainer), then scores its best checkpoint as the evaluate stage does:
test images at 512 inside the FOV. The table gives each setting's mean ± sd over seeds, then every run. Choose on the
validation columns; the test columns are reported beside them, never used to choose. Train seconds of jobs that
shared a GPU are the machine's throughput divided among them, not one run's cost. Needs `dvc repro preprocess`.
The table also gives the doubling rule (retina.report.convergence) for every setting that also ran twice as long. The
committed rows are in reports/cost_sweep/runs/, one file per batch of runs; the report's convergence section reads them.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path

import pandas as pd

from benchmarks.grid import dispatch, run_jobs
from retina.data.arrays import load_arrays, processed_dir
from retina.cli import run_main
from retina.config import ModelSpec, Params, TrainSettings, load_params, run_dir
from retina.data.dataset import NATIVE_SIZE
from retina.machine import describe
from retina.evaluate.scoring import predict_split, score_images
from retina.evaluate.statistics import CONVERGED, last_quarter_gain
from retina.report.convergence import doubling_table, recipe
from retina.summary import markdown_table, mean_pm
from retina.train.trainer import train_scratch

# name: overrides of the model (width, depth) and train (the rest) settings of params.yaml
SETTINGS = {
    "w16-e90": {"epochs": 90}, "w16-e150": {"epochs": 150}, "w16-e240": {"epochs": 240}, "w16-e360": {"epochs": 360},
    "w16-e480": {"epochs": 480},
    "w32-e90": {"width": 32, "epochs": 90}, "w32-e150": {"width": 32, "epochs": 150},
    "w32-e240": {"width": 32, "epochs": 240},
    "w16-e150-bce": {"epochs": 150, "loss": "bce"},
    # the cheap half: narrower and shallower networks, shorter and hotter schedules
    "w4-e90": {"width": 4, "epochs": 90}, "w8-e45": {"width": 8, "epochs": 45}, "w8-e90": {"width": 8, "epochs": 90},
    "w8-e180": {"width": 8, "epochs": 180}, "w8-e360": {"width": 8, "epochs": 360},
    "w12-e90": {"width": 12, "epochs": 90},
    "w8-d3-e90": {"width": 8, "depth": 3, "epochs": 90}, "w8-e90-lr5": {"width": 8, "epochs": 90, "lr": 0.005},
    "w8-e45-lr5": {"width": 8, "epochs": 45, "lr": 0.005},
    # ways to reach in 180 epochs what 360 reach: a higher peak; twice the steps at the same pixels an epoch; whole
    # 512 images instead of 256 crops (4x the pixels an epoch, so 45 epochs see what 180 epochs of crops see)
    "w8-e180-lr5": {"width": 8, "epochs": 180, "lr": 0.005}, "w8-e180-b2": {"width": 8, "epochs": 180, "batch_size": 2},
    "w8-e45-crop0": {"width": 8, "epochs": 45, "crop": 0}, "w8-e720": {"width": 8, "epochs": 720},
    # the optimiser and schedule: a one-cycle schedule (a tenth of the steps warming up) to a higher peak, LWNet's
    # 0.01 among them; AdamW at torch's default decay
    "w8-e180-wu-lr5": {"width": 8, "epochs": 180, "lr": 0.005, "warmup": 0.1},
    "w8-e180-wu-lr10": {"width": 8, "epochs": 180, "lr": 0.01, "warmup": 0.1},
    "w8-e360-adamw": {"width": 8, "epochs": 360, "optimizer": "adamw", "weight_decay": 0.01},
    "w8-e180-adamw": {"width": 8, "epochs": 180, "optimizer": "adamw", "weight_decay": 0.01},
    "w8-e90-wu-lr5": {"width": 8, "epochs": 90, "lr": 0.005, "warmup": 0.1},
    "w8-e90-adamw": {"width": 8, "epochs": 90, "optimizer": "adamw", "weight_decay": 0.01},
}
ARCHITECTURE_KEYS = ("width", "depth")  # the rest override train settings


def optimiser(row: dict | pd.Series) -> str:
    """A run's optimiser and warm-up in short, e.g. 'adam' or 'adamw 0.01, warm-up 0.1'; rows from before these
    settings existed were Adam without warm-up."""
    def value(key: str, default: object) -> object:
        found = row.get(key)
        return default if found is None or (isinstance(found, float) and math.isnan(found)) else found

    name, decay, warmup = value("optimizer", "adam"), value("weight_decay", 0), value("warmup", 0)
    text = f"{name} {decay:g}" if decay else str(name)
    return f"{text}, warm-up {warmup:g}" if warmup else text


def runs_table(rows: list[dict]) -> str:
    """Markdown: per model, every run sorted by training time, with the validation-best marked."""
    df = pd.DataFrame(rows)
    out = []
    for model, group in df.groupby("model", sort=False):
        group = group.sort_values("train_s")
        best = group["val_dice"].max()
        cells = [[f"{r['experiment']}{' **(best val)**' if r['val_dice'] == best else ''}", r["width"], r["epochs"],
                  r["lr"], optimiser(r), r["batch"], r["crop"], r["val_every"], r["soft"], f"{r['train_s'] / 60:.1f}",
                  f"{r['s_per_epoch']:.1f}", f"{r['val_dice']:.4f}",
                  "n/a" if math.isnan(r["gain"]) else f"{r['gain']:+.4f}", "yes" if r["gain"] < CONVERGED else "no",
                  f"{r['test_f1']:.4f}", f"{r['test_auc']:.4f}"] for _, r in group.iterrows()]
        out += [f"### {model}", "", markdown_table(
            ["experiment", "width", "epochs", "lr", "optimiser", "batch", "crop", "val every", "soft masks",
             "train min", "s/epoch", "best val Dice", "val Dice gain, last quarter", "flat at the end", "test F1 (FOV)",
             "test AUC-ROC"], cells), "", f"Machines: {'; '.join(sorted(group['machine'].unique()))}", ""]
    return "\n".join(out)


def seed_summary(rows: list[dict]) -> str:
    """Markdown: per model, setting and machine (cheapest first), the mean ± sd over its seeds of what the choice
    rests on, and whether every seed's validation Dice was flat over its last quarter. Runs of one setting on
    different machines are summarised apart: their minutes are different costs."""
    df = pd.DataFrame(rows).sort_values(["model", "epochs", "width", "experiment", "machine"])
    cells = [[model, name, " ".join(map(str, sorted(group["seed"]))), f"{group['train_s'].mean() / 60:.1f}",
              mean_pm(group["val_dice"]), mean_pm(group["gain"], sign="+"),
              "yes" if (group["gain"] < CONVERGED).all() else "no", mean_pm(group["test_f1"]),
              mean_pm(group["test_auc"]), machine]
             for (model, name, machine), group in df.groupby(["model", "experiment", "machine"], sort=False)]
    return markdown_table(["model", "experiment", "seeds", "train min per run", "best val Dice",
                           "val Dice gain, last quarter", "flat at the end (all seeds)", "test F1 (FOV)",
                           "test AUC-ROC", "machine"], cells)


def configure(params: Params, setting: str, model: str, seed: int) -> tuple[ModelSpec, TrainSettings]:
    """The model's spec and train settings from params.yaml with the setting's overrides; a key that neither has is
    a ValueError naming the setting."""
    overrides = dict(SETTINGS[setting])
    architecture = {k: overrides.pop(k) for k in ARCHITECTURE_KEYS if k in overrides}
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(TrainSettings)})
    if unknown:
        raise ValueError(f"setting {setting}: {', '.join(unknown)} is not a model or train setting")
    spec = dataclasses.replace(params.models[model], **architecture)
    return spec, dataclasses.replace(params.train_settings(model, params.training_seeds[0]), seed=seed, **overrides)


def run_one(job: tuple[str, str, int, str, str, int]) -> dict:
    """Train one model for one seed with one setting's overrides; its row for this sweep's tables."""
    setting, model, seed, data, out, jobs = job
    params = load_params()
    spec, settings = configure(params, setting, model, seed)
    run = Path(out) / setting / run_dir(model, seed)
    started = time.perf_counter()
    trainer = train_scratch(spec, settings, Path(data), run)
    seconds = time.perf_counter() - started
    truth = load_arrays(processed_dir(Path(data), NATIVE_SIZE) / "test")
    pred = predict_split(run / "model" / "best.pt", Path(data), settings.device)
    _, pooled = score_images(pred.prob, truth, params.threshold)
    info = json.loads((run / "logs" / "run.json").read_text())
    row = {"experiment": setting, "model": model, "seed": seed, "epochs": settings.epochs, **recipe(spec, settings),
           "train_s": round(seconds, 1),
           "s_per_epoch": info["seconds_per_epoch"], "machine": f"{describe(trainer.device)}, {jobs} jobs at once",
           "val_dice": trainer.best["val/dice"], "best_epoch": trainer.best["epoch"],
           "gain": last_quarter_gain(pd.DataFrame(trainer.history)),
           "test_f1": pooled["fov_f1"], "test_auc": pooled["fov_auc_roc"]}
    print(json.dumps(row), flush=True)
    return row


def cost(job: tuple) -> float:
    """Relative work of a job, to start the longest first."""
    setting = SETTINGS[job[0]]
    return setting.get("epochs", 0) * (setting.get("width", 16) / 16) * (1.2 if job[1] == "baseline" else 1.0)


def run(args: argparse.Namespace) -> None:
    jobs = sorted(((s, m, seed, str(args.data), str(args.out), args.jobs) for s in args.settings for m in args.models
                   for seed in args.seeds), key=cost, reverse=True)
    run_jobs(run_one, jobs, args.jobs, args.out / "rows.json")


def table(files: list[Path]) -> str:
    """The Markdown page: per model, the seeds' mean ± sd of each setting, then every run."""
    rows = [row for f in files for row in json.loads(f.read_text())]
    return "\n".join([
        "# Cost sweep: training cost against validation Dice", "",
        f"Generated by `retina-cost-sweep table {' '.join(map(str, files))}` from the rows of "
        "`retina-cost-sweep run` (see its docstring): the models of params.yaml with each setting's "
        "overrides, one job per setting, model and seed. Choose on the validation columns; the test columns are "
        "reported beside them, never used to choose. Train seconds are one run's cost on the machine named when the "
        "jobs ran one at a time (`--jobs 1`); jobs side by side on a GPU share it.", "", seed_summary(rows), "",
        "## The doubling rule", "",
        f"A model is converged at a length when the same recipe trained twice as long gains less than {CONVERGED} "
        "best validation Dice, mean over seeds (retina.report.convergence): each seed's two runs compared on one "
        "machine where one machine ran both, else its runs on every machine averaged. The last-quarter columns "
        "above are a diagnostic: whether a run's validation Dice still rose at its end.", "", doubling_table(rows),
        "", "## Every run", "",
        runs_table([{**row, "experiment": f"{row['experiment']}, seed {row['seed']}"} for row in rows])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run")
    go.add_argument("--data", type=Path, default=Path("data/processed"))
    go.add_argument("--out", type=Path, required=True)
    go.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    go.add_argument("--jobs", type=int, default=1)
    go.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    go.add_argument("--models", nargs="+", choices=list(load_params().models), default=["baseline", "silu256"])
    tab = sub.add_parser("table")
    tab.add_argument("rows", type=Path, nargs="+")
    dispatch(parser.parse_args(), run, table)


def cli() -> None:
    """The console script `retina-cost-sweep`."""
    run_main(main)


if __name__ == "__main__":
    cli()
