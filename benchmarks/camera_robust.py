"""Which input handling and augmentation make the best study architecture travel to other cameras: every candidate
(input kind x camera augmentation, retina.data.model_input / retina.train.augment) trained like the study's models (params.yaml
`train`) for several seeds, scored on the validation eyes (F1 and AUC-ROC inside the FOV, mapped back to 512x512)
and on a labelled set from another camera (STARE: F1 and AUC-ROC inside the found FOV, through predict's path).

    python -m benchmarks.camera_robust run --raw data/raw --cross ../shared/data/stare --out /tmp/robust [--jobs 4]
    python -m benchmarks.camera_robust table /tmp/robust/rows.json > reports/camera_robust.md

(The committed table: reports/camera_robust.json, the rows of two such runs on an H100 GPU, one per seed, and of two
more seeds of the raw input on a 2-core AMX CPU.)

Choose on these columns (validation eyes and the cross-camera set). The data is prepared by the pipeline's own
preprocessing (retina.data.preparation), whose test arrays this benchmark never reads.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from benchmarks.grid import dispatch, run_jobs
from retina.data.arrays import load_arrays, processed_dir
from retina.config import BASELINE, load_params
from retina.evaluate.labelled_sets import read_labelled_set
from retina.data.dataset import NATIVE_SIZE
from retina.train.checkpoint import load_checkpoint
from retina.train.device import select_device
from retina.machine import describe
from retina.metrics import all_scores
from retina.predict.predict import predict_photograph
from retina.data.preparation import preprocess
from retina.evaluate.scoring import predict_split
from retina.evaluate.statistics import last_quarter_gain
from retina.summary import markdown_table, mean_pm
from retina.train import augment
from retina.train.trainer import train_scratch

CANDIDATES = {  # name: (input kind, camera augmentation)
    "raw": ("raw", False), "framed": ("framed", False), "flat": ("flat", False), "clahe": ("clahe", False),
    "raw+aug": ("raw", True), "framed+aug": ("framed", True), "flat+aug": ("flat", True),
    "clahe+aug": ("clahe", True), "clahe+aug+zoom2": ("clahe", True),
}
ZOOMS = {"clahe+aug+zoom2": (0.5, 2.0)}  # a candidate's zoom range where it is not augment.ZOOM_RANGE


@contextlib.contextmanager
def zoom_range(bounds: tuple[float, float] | None) -> Iterator[None]:
    """Camera augmentation with its zoom drawn from `bounds` (None: augment.ZOOM_RANGE) while inside."""
    default = augment.ZOOM_RANGE
    augment.ZOOM_RANGE = bounds or default
    try:
        yield
    finally:
        augment.ZOOM_RANGE = default


def run_one(job: tuple[str, int, str, str, str]) -> dict:
    """Train one candidate for one seed; score it on the validation eyes and the cross-camera set."""
    name, seed, root, cross, out = job
    params = load_params()
    kind, camera = CANDIDATES[name]
    spec = dataclasses.replace(params.models[BASELINE], name=name, input=kind, camera_augment=camera)
    settings = dataclasses.replace(params.train_settings(BASELINE, params.training_seeds[0]), seed=seed)
    run = Path(out) / "runs" / f"{name}-seed{seed}"
    started = time.perf_counter()
    with zoom_range(ZOOMS.get(name)):
        trainer = train_scratch(spec, settings, Path(root), run)
    seconds = time.perf_counter() - started
    history = pd.DataFrame(trainer.history)
    device = select_device(settings.device)
    model, spec, _ = load_checkpoint(run / "model" / "best.pt", device)
    truth = load_arrays(processed_dir(Path(root), NATIVE_SIZE) / "val")
    prob = predict_split(run / "model" / "best.pt", Path(root), settings.device, split="val").prob
    val_scores = all_scores(prob, truth.masks, params.threshold, truth.fov)
    data = read_labelled_set(Path(cross))
    preds = [predict_photograph([model], spec, image, params.threshold, device) for image in data.images]
    cross_scores = all_scores(np.concatenate([p.probability[p.fov] for p in preds]),
                              np.concatenate([t[p.fov] for t, p in zip(data.reference, preds)]), params.threshold)
    row = {"candidate": name, "input": kind, "camera_augment": camera, "seed": seed,
           "val_f1": val_scores["f1"], "val_auc": val_scores["auc_roc"], "val_gain": last_quarter_gain(history),
           "cross_f1": cross_scores["f1"], "cross_auc": cross_scores["auc_roc"], "train_seconds": round(seconds, 1),
           "machine": describe(device)}
    print(json.dumps(row), flush=True)
    return row


def run(args: argparse.Namespace) -> None:
    params = load_params()
    names = args.candidates or list(CANDIDATES)
    root = args.out / "processed"
    size = params.models[BASELINE].image_size
    preprocess(args.raw, root, [(size, CANDIDATES[n][0]) for n in names], params.val_eyes, params.split_seed)
    print(f"prepared {sorted(p.name for p in root.iterdir())}", flush=True)
    jobs = [(n, s, str(root), str(args.cross), str(args.out)) for s in args.seeds for n in names]
    run_jobs(run_one, jobs, args.jobs, args.out / "rows.json")


def table(rows_file: Path) -> str:
    """The Markdown page: mean ± sd over seeds of each candidate's scores, best STARE F1 first; each seed is tagged
    with the machine that ran it (A, B, ... in the order they first appear), as are the training times."""
    rows = pd.DataFrame(json.loads(rows_file.read_text()))
    tags = {m: chr(ord("A") + k) for k, m in enumerate(dict.fromkeys(rows["machine"]))}
    order = rows.groupby("candidate")["cross_f1"].mean().sort_values(ascending=False).index
    lines = ["# Input handling and augmentation for other cameras", "",
             f"Generated by `python -m benchmarks.camera_robust table {rows_file}` from the rows of "
             "`python -m benchmarks.camera_robust run` (see its docstring). Every candidate is the baseline's "
             "architecture (ReLU, 512x512, trained on 256 crops) trained with params.yaml's `train` settings; scores "
             "inside the field of view at threshold 0.5: on the validation eyes (mapped back to 512x512) and on "
             "STARE through predict's path. The DRIVE test set is not scored. Mean ± sd over the seeds run; a seed's "
             "letter names its machine (below).", ""]
    cells = []
    for name in order:
        group = rows[rows["candidate"] == name]
        seeds = " ".join(f"{s}{tags[m]}" for s, m in zip(group["seed"], group["machine"]))
        seconds = ", ".join(f"{t:.0f} {tags[m]}" for m, t in group.groupby("machine", sort=False)["train_seconds"]
                            .mean().items())
        cells.append([name, seeds, *(mean_pm(group[col]) for col in ("val_f1", "val_auc", "val_gain", "cross_f1",
                                                                     "cross_auc")), seconds])
    lines.append(markdown_table(["candidate", "seeds", "val F1", "val AUC", "val last-quarter gain", "STARE F1",
                                 "STARE AUC", "train s"], cells))
    machines = "; ".join(f"{tag}: {m}" for m, tag in tags.items())
    return "\n".join(lines) + f"\n\n{choice(rows)}\n\nMachines: {machines}.\n"


VAL_TOLERANCE = 0.005  # how much validation F1 a candidate may give up against the study's raw input


def choice(rows: pd.DataFrame) -> str:
    """The rule that picks the camera-robust settings, and what it picks: the best STARE F1 among the candidates
    whose validation F1 is within VAL_TOLERANCE of the raw input's (DRIVE must not pay for the other camera)."""
    means = rows.groupby("candidate")[["val_f1", "cross_f1"]].mean()
    if "raw" not in means.index:
        return "No raw-input run to compare with: no choice made."
    eligible = means[means["val_f1"] >= means.loc["raw", "val_f1"] - VAL_TOLERANCE]
    best = eligible["cross_f1"].idxmax()
    return (f"Choice: the highest STARE F1 among the candidates whose validation F1 is at most {VAL_TOLERANCE} "
            f"below the raw input's ({means.loc['raw', 'val_f1']:.4f}): **{best}** (validation F1 "
            f"{means.loc[best, 'val_f1']:.4f}, STARE F1 {means.loc[best, 'cross_f1']:.4f}); eligible: "
            f"{', '.join(eligible.index)}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run")
    go.add_argument("--raw", type=Path, default=Path("data/raw"))
    go.add_argument("--cross", type=Path, required=True, help="a labelled set from another camera (STARE layout)")
    go.add_argument("--out", type=Path, required=True)
    go.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    go.add_argument("--jobs", type=int, default=1)
    go.add_argument("--candidates", nargs="+", choices=list(CANDIDATES))
    tab = sub.add_parser("table")
    tab.add_argument("rows", type=Path)
    dispatch(parser.parse_args(), run, table)


if __name__ == "__main__":
    main()
