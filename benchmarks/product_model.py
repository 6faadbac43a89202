"""Which model and test-time averaging predict should use on photographs from any camera, chosen by a rule fixed
before the table was read.

Candidates: each model given (by default the study's baseline and camera_robust, their committed training seeds
averaged as predict averages them; `--extra NAME=CHECKPOINT...` adds others, e.g. a run of benchmarks.camera_robust)
under each test-time averaging of AVERAGING (mirror images and input sizes: retina.predict.averaging), at threshold
0.5 and at the threshold that maximises that candidate's own F1 on the validation eyes (THRESHOLDS, on the 16-bit
grid). Each is scored, pooled over a set's pixels inside its field of view, on the validation eyes (the study's
held-out DRIVE eyes, 512x512) and on params.yaml's other-camera sets except DRIVE's test set, each photograph at its
own size through predict's path.

The rule (RULE below): among the candidates whose validation F1 is at most 0.005 below the baseline's (single pass,
threshold 0.5), the best mean F1 over STARE, DR HAGIS and LES-AV.

    python -m benchmarks.product_model run --out /tmp/product [--extra zoom2=/tmp/zoom2/runs/*/model/best.pt]
    python -m benchmarks.product_model table /tmp/product/rows.json > reports/product_model.md

The per-level pixel counts behind every row are kept in <out>/counts.npz (retina.metrics.level_counts).
"""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from benchmarks.grid import dispatch
from retina.config import BASELINE, load_params, run_dir
from retina.data.arrays import load_arrays, processed_dir
from retina.data.dataset import NATIVE_SIZE
from retina.data.model_input import model_input, photograph_fov
from retina.evaluate.labelled_sets import is_drive, read_labelled_set
from retina.machine import describe
from retina.metrics import counted_scores, level_counts
from retina.predict.averaging import FLIPS, NO_FLIPS, ONE_SCALE, input_sides, on_photograph, segment_input
from retina.summary import markdown_table
from retina.train.checkpoint import load_checkpoint

AVERAGING = {  # name: (mirror images, input scales relative to the model's image_size)
    "single": (NO_FLIPS, ONE_SCALE),
    "flips": (tuple(FLIPS), ONE_SCALE),
    "scales": (NO_FLIPS, (0.8, 1.0, 1.25)),  # the camera augmentation's zoom range
    "flips+scales": (tuple(FLIPS), (0.8, 1.0, 1.25)),
    "wide scales": (NO_FLIPS, (0.67, 1.0, 1.5)),  # 30-degree to 45-degree cameras and beyond
    "flips+wide scales": (tuple(FLIPS), (0.67, 1.0, 1.5)),
}
THRESHOLDS = np.round(np.arange(0.30, 0.7001, 0.01), 2)  # where the validation threshold is searched
CAMERA_SETS = ("stare", "drhagis", "les_av")  # the rule's mean F1
VAL_TOLERANCE = 0.005
RULE = ("among the candidates whose validation F1 is at most 0.005 below the baseline's (single pass, threshold "
        "0.5), the best mean F1 over STARE, DR HAGIS and LES-AV")


def _sets(params) -> dict[str, tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]]:
    """name: (photographs, references, scoring FOVs, the FOVs predict finds): the validation eyes first, then the
    other-camera sets. Each photograph's FOV is found once here, not once per model."""
    val = load_arrays(processed_dir(Path("data/processed"), NATIVE_SIZE) / "val")
    images = list(val.images)
    sets = {"val": (images, [m.astype(bool) for m in val.masks], [f.astype(bool) for f in val.fov],
                    [photograph_fov(im) for im in images])}
    for name, camera in params.other_cameras.items():
        if is_drive(camera.path) or not camera.path.is_dir():
            continue  # DRIVE's own folder holds the test set: never chosen on
        data = read_labelled_set(camera.path)
        found = [photograph_fov(im) for im in data.images]
        sets[name] = (data.images, data.reference, data.fov if data.fov is not None else found, found)
    return sets


def score_model(name: str, checkpoints: list[Path], sets: dict, averagings: dict, device: torch.device
                ) -> tuple[dict, dict]:
    """Level counts (positives, negatives) per (averaging, set) and seconds per photograph per averaging."""
    loaded = [load_checkpoint(path, device) for path in checkpoints]
    models, spec = [m for m, _, _ in loaded], loaded[0][1]
    counts: dict = {}
    seconds: dict = defaultdict(float)
    for set_name, (images, truths, score_fovs, found) in sets.items():
        started = time.perf_counter()
        for image, truth, score_fov, fov in zip(images, truths, score_fovs, found):
            maps, cost = {}, {}
            for side in sorted({s for _, scales in averagings.values()
                                for s in input_sides(spec.image_size, scales, 2 ** spec.depth)}):
                small, box = model_input(image, fov, spec.input, side)
                for flip in FLIPS:
                    if any(flip in flips for flips, _ in averagings.values()):
                        tick = time.perf_counter()
                        maps[side, flip] = segment_input(models, small, device, (flip,))
                        cost[side, flip] = time.perf_counter() - tick
            for avg, (flips, scales) in averagings.items():
                tick = time.perf_counter()
                sides = input_sides(spec.image_size, scales, 2 ** spec.depth)
                prob = on_photograph([np.mean([maps[s, f] for f in flips], axis=0) for s in sides], box, fov)
                pos, neg = level_counts(prob[score_fov], truth[score_fov])
                old = counts.get((avg, set_name))
                counts[avg, set_name] = (pos, neg) if old is None else (old[0] + pos, old[1] + neg)
                seconds[avg, set_name] += time.perf_counter() - tick + sum(cost[s, f] for s in sides for f in flips)
        for avg in averagings:
            seconds[avg, set_name] /= len(images)
        print(f"{name} on {set_name}: {len(images)} photographs, {time.perf_counter() - started:.0f} s", flush=True)
    return counts, seconds


def rows_of(name: str, counts: dict, seconds: dict, averagings: dict, set_names: list[str], machine: str
            ) -> list[dict]:
    """A row per (averaging, threshold rule): the threshold and every set's scores."""
    rows = []
    for avg in averagings:
        f1 = [counted_scores(*counts[avg, "val"], float(t))["f1"] for t in THRESHOLDS]
        for rule, threshold in (("0.5", 0.5), ("val", float(THRESHOLDS[int(np.argmax(f1))]))):
            row = {"model": name, "averaging": avg, "threshold_rule": rule, "threshold": threshold,
                   "machine": machine}
            for set_name in set_names:
                scores = counted_scores(*counts[avg, set_name], threshold)
                row.update({f"{set_name}_{k}": scores[k] for k in ("f1", "auc_roc", "sensitivity", "precision")})
                row[f"{set_name}_seconds"] = round(seconds[avg, set_name], 3)
            rows.append(row)
    return rows


def run(args: argparse.Namespace) -> None:
    params = load_params()
    device = torch.device("cpu")
    models = {m: [Path("models") / run_dir(m, s) / "best.pt" for s in params.training_seeds]
              for m in (BASELINE, params.predict.model)}
    for extra in args.extra:
        name, _, paths = extra.partition("=")
        models.setdefault(name, []).extend(Path(p) for p in paths.split(","))
    sets = _sets(params)
    rows, saved = [], {}
    for name, checkpoints in models.items():
        averagings = {"single": AVERAGING["single"]} if name == BASELINE else AVERAGING
        counts, seconds = score_model(name, checkpoints, sets, averagings, device)
        rows += rows_of(name, counts, seconds, averagings, list(sets), describe(device))
        saved.update({f"{name}|{avg}|{s}|{kind}": c[k] for (avg, s), c in counts.items()
                      for k, kind in enumerate(("positives", "negatives"))})
        (args.out / "rows.json").write_text(json.dumps(rows, indent=1) + "\n")
    np.savez_compressed(args.out / "counts.npz", **saved)


def choice(rows: pd.DataFrame) -> tuple[str, pd.Series]:
    """The sentence that states the rule and what it picks, and the picked row."""
    base = rows[(rows["model"] == BASELINE) & (rows["averaging"] == "single") & (rows["threshold_rule"] == "0.5")]
    floor = float(base["val_f1"].iloc[0]) - VAL_TOLERANCE
    eligible = rows[rows["val_f1"] >= floor]
    best = eligible.loc[eligible["camera_f1"].idxmax()]
    return (f"Rule, fixed before the table was read: {RULE}. The baseline's validation F1 is "
            f"{floor + VAL_TOLERANCE:.4f}, so the floor is {floor:.4f}; {len(eligible)} of {len(rows)} candidates "
            f"clear it. Chosen: **{best['model']}, {best['averaging']}, threshold {best['threshold']:.2f}** "
            f"(validation F1 {best['val_f1']:.4f}, mean camera F1 {best['camera_f1']:.4f})."), best


def table(rows_file: Path) -> str:
    """The Markdown page: every candidate's validation and camera scores, best mean camera F1 first."""
    rows = pd.DataFrame(json.loads(rows_file.read_text()))
    sets = [s for s in CAMERA_SETS if f"{s}_f1" in rows]
    rows["camera_f1"] = rows[[f"{s}_f1" for s in sets]].mean(axis=1)
    text, best = choice(rows)
    rows = rows.sort_values("camera_f1", ascending=False)
    cells = [[r["model"], r["averaging"], f"{r['threshold']:.2f} ({r['threshold_rule']})", f"{r['val_f1']:.4f}",
              f"{r['camera_f1']:.4f}",
              *(f"{r[f'{s}_f1']:.4f} ({r[f'{s}_sensitivity']:.2f}/{r[f'{s}_precision']:.2f})" for s in sets),
              f"{r['drhagis_seconds']:.1f}" if "drhagis_seconds" in r else ""] for _, r in rows.iterrows()]
    header = ["model", "averaging", "threshold (rule)", "val F1", "mean camera F1",
              *(f"{s} F1 (sens/prec)" for s in sets), "s per DR HAGIS photo"]
    averaging = "; ".join(f"{k}: flips {', '.join(f)}, input scales {', '.join(f'{x:g}' for x in s)}"
                          for k, (f, s) in AVERAGING.items())
    return "\n".join([
        "# Predict's model and test-time averaging, chosen across cameras", "",
        f"Generated by `python -m benchmarks.product_model table {rows_file}` from the rows of "
        "`python -m benchmarks.product_model run` (see its docstring). Each model's training seeds are averaged as "
        "predict averages them. F1, sensitivity and precision are pooled over each set's pixels inside its field "
        "of view, every photograph at its own size through predict's path; validation: the held-out DRIVE eyes at "
        "512x512. The threshold is 0.5, or (val) the one in 0.30-0.70 that maximises the candidate's own "
        "validation F1. The DRIVE test set is not read. Seconds: segmentation and mapping back of one DR HAGIS "
        f"photograph (2816-4752 px wide) on {rows['machine'].iloc[0]}.", "",
        f"Averaging: {averaging}.", "",
        markdown_table(header, cells), "", text, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run")
    go.add_argument("--out", type=Path, required=True)
    go.add_argument("--extra", nargs="*", default=[], metavar="NAME=CHECKPOINT[,CHECKPOINT...]")
    tab = sub.add_parser("table")
    tab.add_argument("rows", type=Path)
    dispatch(parser.parse_args(), run, table)


if __name__ == "__main__":
    main()
