"""Gather what the pipeline wrote (training logs, test scores, timings) into one in-memory picture for the report.

Nothing here computes a statistic; a file that is missing leaves its entry out, so the report can say "not
measurable" instead of failing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from retina.config import Params, run_dir
from retina.data.drive import ANNOTATOR2


def load_history(log_dir: Path) -> pd.DataFrame:
    """Per-epoch metrics of one training run from its dvclive logs: columns like 'train/loss', 'val/dice', indexed
    by epoch step (validation columns are NaN at epochs without a validation)."""
    columns = {}
    for tsv in sorted((log_dir / "plots" / "metrics").glob("*/*.tsv")):
        table = pd.read_csv(tsv, sep="\t")
        columns[f"{tsv.parent.name}/{tsv.stem}"] = table.set_index("step")[tsv.stem]
    return pd.DataFrame(columns).sort_index()


def _json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _csv(path: Path, **kwargs) -> pd.DataFrame | None:
    return pd.read_csv(path, **kwargs) if path.is_file() else None


@dataclass
class Results:
    """Everything the report reads. Keys are model names, or (model, seed) for one training run."""

    models: list[str]
    seeds: tuple[int, ...]
    histories: dict[tuple[str, int], pd.DataFrame]
    runs: dict[tuple[str, int], dict]  # run.json of each training run: time, machine
    evals: dict[tuple[str, int], dict]  # metrics.json of each run's test evaluation
    per_image: dict[tuple[str, int], pd.DataFrame]  # per-image test scores, indexed by image id
    ensemble: dict[str, pd.DataFrame]  # per-image scores of each model's seed-averaged probabilities
    per_seed: pd.DataFrame | None  # pooled test scores, one row per (model, seed)
    morphology: dict[tuple[str, int], pd.DataFrame]
    truth_morphology: pd.DataFrame | None
    annotator2_morphology: pd.DataFrame | None  # DRIVE's second annotator, when evaluate was given it
    annotator2_f1: float | None  # its pooled F1 inside the FOV against the first annotator
    ceiling: pd.DataFrame | None  # F1 of the perfect down-sized mask, per size and image
    cross_camera: dict | None  # summary.json of the cross_camera stage
    timings: list[dict]  # {"stage", "seconds"} of download, preprocess, evaluate

    def model_histories(self, model: str) -> list[pd.DataFrame]:
        """The training histories of one model, one per seed that has one."""
        return [self.histories[(model, s)] for s in self.seeds if (model, s) in self.histories]


def gather(params: Params, train_root: Path, eval_root: Path, timing_dir: Path, cross_camera_root: Path
           ) -> Results:
    """Read every output of the training and evaluate stages that exists."""
    runs = [(m, s) for m in params.models for s in params.training_seeds]
    index = {"index_col": "image"}
    histories = {r: load_history(train_root / run_dir(*r)) for r in runs
                 if (train_root / run_dir(*r) / "plots" / "metrics").is_dir()}
    optional = {
        "runs": {r: _json(train_root / run_dir(*r) / "run.json") for r in runs},
        "evals": {r: _json(eval_root / run_dir(*r) / "metrics.json") for r in runs},
        "per_image": {r: _csv(eval_root / run_dir(*r) / "per_image.csv", **index) for r in runs},
        "morphology": {r: _csv(eval_root / run_dir(*r) / "morphology.csv", **index) for r in runs},
        "ensemble": {m: _csv(eval_root / m / "per_image.csv", **index) for m in params.models},
    }
    present = {key: {k: v for k, v in table.items() if v is not None} for key, table in optional.items()}
    return Results(
        models=[m for m in params.models if any((m, s) in present["evals"] for s in params.training_seeds)],
        seeds=params.training_seeds, histories=histories, **present,
        per_seed=_csv(eval_root / "per_seed.csv"),
        truth_morphology=_csv(eval_root / "truth_morphology.csv", **index),
        annotator2_morphology=_csv(eval_root / ANNOTATOR2 / "morphology.csv", **index),
        annotator2_f1=(_json(eval_root / ANNOTATOR2 / "metrics.json") or {}).get("pooled", {}).get("fov_f1"),
        ceiling=_csv(eval_root / "ceiling.csv"),
        cross_camera=_json(cross_camera_root / "summary.json"),
        timings=[t for t in (_json(timing_dir / f"{stage}.json") for stage in ("download", "preprocess", "evaluate"))
                 if t is not None],
    )
