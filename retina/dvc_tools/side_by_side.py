"""Run the pipeline's out-of-date training stages several at a time, then record them in dvc.lock as `dvc repro`
would have. It exists because DVC runs one stage at a time: on a machine with room for several trainings (a GPU,
many cores) that leaves most of it idle.

Each stage runs its own command from dvc.yaml; each that succeeds is committed with `dvc commit` (its deps, params and
outputs hashed into dvc.lock), so `dvc repro` afterwards runs only the stages after training and `dvc status` reads
as after a plain `dvc repro`; the weights and logs are then committed to git like any run's.
"""
from __future__ import annotations

import fnmatch
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dvc.repo import Repo
from dvc.stage import PipelineStage

from retina.errors import TrainingError

TRAIN_STAGES = ("train", "train_variant")  # the dvc.yaml stages (matrices) that train a model
UPSTREAM = "preprocess"  # the stage (with its own upstream) whose outputs every training reads
LOG_DIR = Path(".dvc/tmp/side_by_side")  # one log per stage; DVC and git ignore .dvc/tmp


def training_stages(repo: Repo, only: Sequence[str] = ()) -> list[PipelineStage]:
    """The training stages (one per model and seed) in dvc.yaml order; with `only`, those whose names match one of
    these shell patterns, and TrainingError for a pattern that matches none of them."""
    stages = [s for s in repo.index.stages if isinstance(s, PipelineStage) and s.name.split("@")[0] in TRAIN_STAGES]
    if not only:
        return stages
    names = [s.addressing for s in stages]
    unknown = [p for p in only if not fnmatch.filter(names, p)]
    if unknown:
        raise TrainingError(f"no training stage is named like {', '.join(unknown)}: they are {', '.join(names)}")
    return [s for s in stages if any(fnmatch.fnmatch(s.addressing, p) for p in only)]


def stale(repo: Repo, stages: list[PipelineStage]) -> list[PipelineStage]:
    """Those of `stages` that `dvc status` lists as changed, in their order."""
    changed = repo.status(targets=[s.addressing for s in stages]) if stages else {}
    return [s for s in stages if s.addressing in changed]


def run_stage(stage: PipelineStage, root: Path) -> int:
    """Run one stage's command from the repository root, its output to LOG_DIR/<stage>.log; its exit status."""
    log = root / LOG_DIR / f"{stage.addressing}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        return subprocess.run(stage.cmd, shell=True, cwd=root, stdout=out, stderr=subprocess.STDOUT).returncode


def train_side_by_side(root: Path, jobs: int, only: Sequence[str] = ()) -> list[str]:
    """Run the stale training stages `jobs` at a time and commit each that succeeded; the names of those run.
    `only`: shell patterns of stage names (`train_variant@camera_robust-*`); a stale stage that matches none is left
    for later, and a pattern that matches no training stage raises TrainingError. A failed stage is left uncommitted
    (its resume state kept) and raises TrainingError naming it and its log."""
    repo = Repo(str(root))
    upstream = repo.status(targets=[UPSTREAM], with_deps=True)
    if upstream:
        raise TrainingError(f"the data the models train on is out of date ({', '.join(upstream)}): "
                            f"run `dvc repro {UPSTREAM}` first")
    stages = stale(repo, training_stages(repo, only))
    with ThreadPoolExecutor(max(jobs, 1)) as pool:
        codes = list(pool.map(lambda stage: run_stage(stage, root), stages))
    done = [s for s, code in zip(stages, codes) if code == 0]
    for stage in done:
        repo.commit(stage.addressing, force=True)
    failed = [f"{s.addressing} (exit {code}, log {LOG_DIR / s.addressing}.log)" for s, code in zip(stages, codes)
              if code]
    if failed:
        raise TrainingError(f"training stages failed: {', '.join(failed)}; the others are committed")
    return [s.addressing for s in done]
