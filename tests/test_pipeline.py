"""The whole DVC pipeline, end to end, on synthetic data with a tiny model in a temporary copy of the project:
outputs that agree with a recomputation, a clean status, Ctrl-C in training ending in one line with the committed run
in place, and `kill -9` at any stage followed by `dvc repro` giving exactly what an uninterrupted run gives."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from retina.config import load_params, training_stage
from retina.data.arrays import load_arrays
from retina.metrics import dequantise
from retina.evaluate.labelled_sets import read_labelled_set
from retina.data.drive import second_annotator
from retina.metrics import all_scores
from retina.data.model_input import photograph_fov
from retina.report.convergence import recipe
from tests.conftest import MODELS, same_checkpoint, sh

def test_scores_agree_with_a_recomputation_from_the_predictions(project):
    params = yaml.safe_load((project / "params.yaml").read_text())
    truth = load_arrays(project / "data" / "processed" / "512" / "test")
    per_seed = pd.read_csv(project / "reports" / "eval" / "per_seed.csv")
    summary = json.loads((project / "reports" / "eval" / "summary.json").read_text())
    assert sorted(per_seed["model"].unique()) == sorted(MODELS) and sorted(per_seed["seed"].unique()) == [0, 1]
    for model in MODELS:
        probs = []
        for seed in (0, 1):
            prob = dequantise(np.load(project / "data" / "predictions" / model / f"seed{seed}.npy"))
            probs.append(prob)
            scores = all_scores(prob, truth.masks, params["evaluate"]["threshold"], truth.fov)
            row = per_seed[(per_seed["model"] == model) & (per_seed["seed"] == seed)].iloc[0]
            assert row["fov_f1"] == pytest.approx(scores["f1"], abs=2e-6)  # evaluate scores what it stores
            assert row["fov_auc_roc"] == pytest.approx(scores["auc_roc"], abs=2e-6)
            best = torch.load(project / "models" / model / f"seed{seed}" / "best.pt", weights_only=True)
            dice = pd.read_csv(project / "reports" / "train" / model / f"seed{seed}" / "plots" / "metrics" / "val" /
                               "dice.tsv", sep="\t")
            assert best["epoch"] == int(dice["step"][dice["dice"].idxmax()]) + 1 and best["seed"] == seed
        f1 = per_seed[per_seed["model"] == model]["fov_f1"]
        assert summary[model]["fov_f1"] == pytest.approx(f1.mean(), abs=1e-5)
        assert summary[model]["fov_f1_sd"] == pytest.approx(f1.std(ddof=1), abs=1e-5)
        ensemble = pd.read_csv(project / "reports" / "eval" / model / "per_image.csv", index_col="image")
        mean_prob = np.mean(probs, axis=0)
        k = 3  # one test image, recomputed from the seed-averaged probabilities
        assert ensemble.loc[int(truth.ids[k]), "fov_f1"] == pytest.approx(
            all_scores(mean_prob[k], truth.masks[k], 0.5, truth.fov[k])["f1"], abs=2e-6)


def test_second_annotator_and_other_camera_are_scored_and_reported(project, env, other_camera):
    """The human references (DRIVE's second annotator, the other camera's second annotator) scored like a model,
    checked against a recomputation, and their numbers in the report."""
    truth = load_arrays(project / "data" / "processed" / "512" / "test")
    second = second_annotator(Path(env["RETINA_DRIVE"]), truth.ids)
    expected = all_scores(second.astype(np.float32), truth.masks, 0.5, truth.fov)["f1"]
    pooled = json.loads((project / "reports" / "eval" / "annotator2" / "metrics.json").read_text())["pooled"]
    assert pooled["fov_f1"] == pytest.approx(expected, abs=1e-6) and 0.5 < expected < 0.99
    measured = pd.read_csv(project / "reports" / "eval" / "annotator2" / "morphology.csv", index_col="image")
    assert list(measured.index) == [int(i) for i in truth.ids] and (measured["length"] > 0).all()

    other = read_labelled_set(other_camera)
    sets = json.loads((project / "reports" / "cross_camera" / "summary.json").read_text())["sets"]
    assert sets["absent"] == {"missing": str(other_camera.parent / "absent"), "fov_degrees": 30}
    summary = sets["other"]
    fovs = [photograph_fov(image) for image in other.images]
    human = all_scores(np.concatenate([s[f] for s, f in zip(other.second, fovs)]).astype(np.float32),
                       np.concatenate([r[f] for r, f in zip(other.reference, fovs)]), 0.5)["f1"]
    assert summary["configured"] and summary["images"] == len(other.names) and set(summary["models"]) == set(MODELS)
    assert summary["annotator2"]["f1"] == pytest.approx(human, abs=1e-6) and human < 0.99
    assert summary == json.loads((project / "reports" / "cross_camera" / "other" / "summary.json").read_text()) \
        | {"fov_degrees": 45, "layout": "images/labels"}

    report = (project / "reports" / "report.md").read_text()
    camera = report.split("## Other cameras")[1].split("\n## ")[0]
    label = "other (45°, 3 photographs, 96x96)"
    row = next(line for line in camera.splitlines() if line.startswith(f"| {label} | second annotator |"))
    assert row.split(" | ")[2] == f"{human:.4f}" and "`absent`" in camera
    for model in MODELS:
        m = summary["models"][model]
        assert f"| {label} | {model} | {m['averaged']['f1']:.4f} | {m['f1']:.4f}" in camera
    assert f"(its F1 against the first inside the FOV: {expected:.4f})" in report


def test_report_states_the_rule_and_a_verdict_per_claim(project):
    report = (project / "reports" / "report.md").read_text()
    claims = report.split("## Claims of the study")[1].split("## Test metrics")[0]
    rows = [line for line in claims.splitlines() if line.startswith("| ") and "verdict" not in line]
    assert len(rows) == 6 and "Verdict rule:" in claims
    allowed = {"**holds**", "**contradicted**", "**not shown**", "**not measurable**"}
    assert all(row.rstrip(" |").rsplit("| ", 1)[1] in allowed for row in rows)
    assert "loss near 0 (binary cross-entropy" in claims and "final train BCE" in claims
    assert "F1 ceiling" in report and "Every stage recorded in dvc.lock ran with exactly these files" in report
    for fig in ("panels.png", "roc_pr.png", "se_comparison.png", "curves_baseline.png"):
        assert (project / "reports" / "figures" / fig).stat().st_size > 1000


def test_status_is_clean_and_second_repro_does_nothing(project, env):
    assert "up to date" in sh(project, "dvc", "status", env=env)
    assert "Running stage" not in sh(project, "dvc", "repro", env=env)


def test_a_variant_with_its_own_epochs_trains_that_long_and_the_report_says_so(project):
    params = yaml.safe_load((project / "params.yaml").read_text())
    own = {name: v["epochs"] for name, v in params["variants"].items() if "epochs" in v}
    assert own == {"camera_robust": 8} and params["train"]["default_epochs"] == 6
    for model in MODELS:
        for seed in params["training_seeds"]:
            run = json.loads((project / "reports" / "train" / model / f"seed{seed}" / "run.json").read_text())
            assert run["epochs"] == own.get(model, 6), (model, seed)
    budget = (project / "reports" / "report.md").read_text().split("## Training budget")[1]
    row = next(line for line in budget.splitlines() if line.startswith("| camera_robust |"))
    assert row.split(" | ")[3] == "8"
    shared, train = params["model"], params["train"]
    assert (f"width {shared['width']} and depth {shared['depth']}, Adam at learning rate {train['lr']:g} cosine-decayed"
            in budget)  # the recipe every model follows, from the params it ran with


def test_the_report_judges_convergence_by_twice_the_epochs_from_the_sweeps_runs(project, env, tmp_path):
    budget = (project / "reports" / "report.md").read_text().split("## Training budget")[1]
    rows = {line.split(" | ")[0][2:]: line.split(" | ") for line in budget.splitlines() if line.startswith("| ")}
    assert all(rows[m][7:9] == ["not measured", "not measured"] for m in MODELS)  # no sweep ran the tiny recipe
    # a sweep run of the baseline's recipe at twice its epochs, on the machine of the committed seed 0
    params = load_params(project / "params.yaml")
    run = json.loads((project / "reports" / "train" / "baseline" / "seed0" / "run.json").read_text())
    dice = pd.read_csv(project / "reports" / "train" / "baseline" / "seed0" / "plots" / "metrics" / "val" / "dice.tsv",
                       sep="\t")["dice"].max()
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "rows.json").write_text(json.dumps([{
        "experiment": "long", "model": "baseline", "seed": 0, "epochs": 2 * run["epochs"], "val_dice": dice + 0.01,
        "machine": run["machine"] + ", 1 jobs at once",
        **recipe(params.models["baseline"], params.train_settings("baseline", 0))}]))
    out = tmp_path / "out"
    shutil.copytree(project / "reports" / "timing", out / "timing")
    sh(project, "python", "-m", "stages.report", "--sweep", str(sweep), "--out", str(out), env=env)
    budget = (out / "report.md").read_text().split("## Training budget")[1]
    row = next(line for line in budget.splitlines() if line.startswith("| baseline |")).split(" | ")
    assert row[7:9] == [f"{dice:.4f} -> {dice + 0.01:.4f} at {2 * run['epochs']} (+0.0100; 1 runs each)", "**no**"]
    assert f"baseline: {run['machine']}" in budget


def test_the_report_names_where_and_in_which_precision_the_test_images_were_predicted(project):
    per_seed = pd.read_csv(project / "reports" / "eval" / "per_seed.csv")
    assert per_seed["machine"].nunique() == 1
    assert f"predicted on {per_seed['machine'][0]}, in fp32 " in (project / "reports" / "report.md").read_text()


def test_metrics_show_reports_every_model_from_the_summary(project, env):
    shown = json.loads(sh(project, "dvc", "metrics", "show", "--json", env=env))
    metrics = shown[""]["data"]["reports/eval/summary.json"]["data"]
    summary = json.loads((project / "reports" / "eval" / "summary.json").read_text())
    assert metrics == summary and set(metrics) == set(MODELS)


def _processes(fragment: str, ancestor: int) -> list[int]:
    """Processes descended from `ancestor` whose command line holds `fragment`: never another pipeline's on the
    same machine."""
    parents, commands = {}, {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit():
                parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                commands[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == ancestor:
                return True
        return False

    return [pid for pid, cmd in commands.items() if fragment in cmd and "pytest" not in cmd and descends(pid)]


def repro_and_kill(project: Path, env: dict, command: str, ready) -> None:
    """Run `dvc repro`, SIGKILL the process running `command` once ready() is true, and wait for DVC to fail."""
    limit = 1200  # only a guard against hanging: before `stages.report` runs, this repro evaluates every model
    #               (~200 s on an idle 2-core CPU, twice that with the cores shared; a 240 s guard was too short)
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe nobody reads while polling: DVC never blocks on it
        repro = subprocess.Popen(["dvc", "repro"], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
                                 text=True)
        deadline = time.monotonic() + limit
        killed = False
        while repro.poll() is None and time.monotonic() < deadline:
            pids = _processes(command, repro.pid)
            if pids and ready():
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.005)
        ended = repro.poll() is not None
        if not killed and not ended:
            repro.kill()
        repro.wait()
        log.seek(0)
        output = log.read()
    why = "dvc repro ended first" if ended else f"{limit} s passed"
    assert killed, f"{command} was never seen running ({why}):\n{output}"
    assert repro.returncode != 0, output


def _epochs_done(project: Path, name: str) -> int:
    state = project / "models" / ".resume" / f"{name}.pt"
    try:
        return len(torch.load(state, weights_only=False)["history"]) if state.is_file() else 0
    except Exception:  # noqa: BLE001 - a state being written: not ready yet
        return 0


def run_in_slices(group: int, ready, slice_s: float = 0.01, limit_s: float = 600) -> None:
    """Let a process group run in short slices and stop it between them until ready() holds, checked while it is
    stopped: the group is left stopped at a state that ready() saw, however fast its steps (the tiny project's
    epochs take a few milliseconds, so polling a running process can miss a whole run)."""
    deadline = time.monotonic() + limit_s
    os.killpg(group, signal.SIGSTOP)
    while not ready() and time.monotonic() < deadline:
        os.killpg(group, signal.SIGCONT)
        time.sleep(slice_s)
        os.killpg(group, signal.SIGSTOP)


def seen_for(seconds: float):
    """A ready() that turns true `seconds` after its first call (the process is running from then on)."""
    first: list[float] = []

    def ready() -> bool:
        first.append(time.monotonic())
        return first[-1] - first[0] >= seconds

    return ready


def test_ctrl_c_in_training_ends_in_one_line_and_leaves_the_committed_run_in_place(project, tmp_path, env):
    work = Path(shutil.copytree(project, tmp_path / "project", symlinks=True))
    stage, run, name = "train_variant@silu256-1", "silu256/seed1", "silu256-seed1"
    before = {p: (work / p).read_bytes() for p in _files(work, run)}
    with tempfile.TemporaryFile("w+") as log:
        # SIGINT at its default, as in a terminal: a suite started in the background (`... &` in a script) inherits
        # it ignored, and Python then never raises KeyboardInterrupt
        repro = subprocess.Popen(["dvc", "repro", "--force", "--single-item", stage], cwd=work, env=env, stdout=log,
                                 stderr=subprocess.STDOUT, text=True, start_new_session=True,
                                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        run_in_slices(repro.pid, lambda: _epochs_done(work, name) >= 2 or repro.poll() is not None)
        if repro.poll() is None:
            os.killpg(repro.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
            os.killpg(repro.pid, signal.SIGCONT)  # the interrupt is handled first: no epoch runs after the check
        repro.wait(timeout=120)
        log.seek(0)
        output = log.read()
    assert repro.returncode != 0, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.startswith("interrupted:")]
    assert len(lines) == 1 and f"{run} had completed " in lines[0] and f"`dvc repro --force -s {stage}`" in lines[0], output
    done = int(lines[0].split("had completed ")[1].split()[0])
    assert done >= 2 and (work / "models" / ".resume" / f"{name}.pt").is_file()
    assert {p: (work / p).read_bytes() for p in _files(work, run)} == before  # committed weights and logs intact
    assert sh(work, "git", "status", "--porcelain", env=env) == ""
    sh(work, "dvc", "repro", "--force", "--single-item", stage, env=env)
    resumed = json.loads((work / "reports" / "train" / run / "run.json").read_text())
    assert resumed["resumed_after_epoch"] == done
    assert same_checkpoint(work / "models" / run / "best.pt", project / "models" / run / "best.pt")


def _files(work: Path, run: str) -> list[Path]:
    """A run's committed outputs: its weights and every training log file."""
    return [Path("models") / run / "best.pt"] + sorted(p.relative_to(work) for p in
                                                       (work / "reports" / "train" / run).rglob("*") if p.is_file())


def test_kill_9_anywhere_then_repro_gives_what_an_uninterrupted_run_gives(project, tmp_path, env):
    """From a copy of the finished project with one run's outputs removed: kill its training twice (mid-run, and
    after its best epoch), then evaluation and the report, and finish with `dvc repro`."""
    work = Path(shutil.copytree(project, tmp_path / "project", symlinks=True))
    epochs = yaml.safe_load((project / "params.yaml").read_text())["train"]["default_epochs"]
    runs = [f"{m}/seed{s}" for m in MODELS for s in (0, 1)]
    best = {run: torch.load(project / "models" / run / "best.pt", weights_only=True)["epoch"] for run in runs}
    early = [run for run in runs if best[run] <= epochs - 2 and not run.startswith("camera_robust")]
    assert early, f"every reference run was best at its last epochs {best}: no kill after a best epoch possible"
    model, seed = early[0].split("/seed")
    name = f"{model}-seed{seed}"
    for path in _files(work, early[0]) + [Path("reports/eval/summary.json")]:  # evaluation must rerun too
        (work / path).unlink()
    stage = training_stage(model, int(seed))
    stale = sh(work, "dvc", "status", env=env)
    assert [line for line in stale.splitlines() if line.startswith("train")] == [f"{stage}:"], stale
    assert "evaluate:" in stale

    # once mid-training (after its first epoch), once after its best validation epoch, in the same stage
    repro_and_kill(work, env, f"stages.train {model} --seed {seed}", lambda: _epochs_done(work, name) >= 1)
    repro_and_kill(work, env, f"stages.train {model} --seed {seed}",
                   lambda: _epochs_done(work, name) > best[early[0]])
    repro_and_kill(work, env, "stages.evaluate", seen_for(1.5))
    repro_and_kill(work, env, "stages.report", seen_for(1.5))
    sh(work, "dvc", "repro", env=env)
    assert "up to date" in sh(work, "dvc", "status", env=env)

    resumed = json.loads((work / "reports" / "train" / early[0] / "run.json").read_text())
    assert resumed["resumed_after_epoch"] > best[early[0]]  # killed after its best epoch, and resumed
    for run in runs:
        assert same_checkpoint(work / "models" / run / "best.pt", project / "models" / run / "best.pt")
        assert np.array_equal(np.load(work / "data" / "predictions" / f"{run}.npy"),
                              np.load(project / "data" / "predictions" / f"{run}.npy"))
        for log in ("val/dice.tsv", "train/loss.tsv", "train/bce.tsv"):
            path = Path("reports/train") / run / "plots" / "metrics" / log
            assert (work / path).read_text() == (project / path).read_text()
    for table in ("summary.json", "baseline/per_image.csv", "silu256_se/seed1/per_image.csv"):
        assert (work / "reports" / "eval" / table).read_text() == (project / "reports" / "eval" / table).read_text()
    report, reference = ((p / "reports" / "report.md").read_text().split("## Figures")[0] for p in (work, project))
    strip_ms = [line.split(" | ")[:3] + line.split(" | ")[4:] for line in report.splitlines()]  # ms/image: timing
    assert strip_ms == [line.split(" | ")[:3] + line.split(" | ")[4:] for line in reference.splitlines()]


def test_a_failed_forced_download_leaves_the_previous_data_in_place(project, tmp_path, env):
    work = Path(shutil.copytree(project, tmp_path / "project", symlinks=True))
    kept = [Path("data/raw/manifest.sha256"), Path("reports/timing/download.json")]
    before = {p: (work / p).read_bytes() for p in kept}
    offline = {**env, "RETINA_DATA": str(tmp_path / "no-such-folder")}  # as on a machine with no network
    failed = subprocess.run(["dvc", "repro", "--force", "download"], cwd=work, env=offline, capture_output=True,
                            text=True)
    assert failed.returncode != 0 and "no-such-folder" in failed.stdout + failed.stderr
    assert {p: (work / p).read_bytes() for p in kept} == before
    assert len(list((work / "data/raw/train/image").iterdir())) > 0
    assert "download" not in sh(work, "dvc", "status", "download", env=env)  # still the data dvc.lock records
