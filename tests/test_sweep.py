"""The budget-sweep tables: a setting's seeds summarised, converged only when every seed is."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from benchmarks import cost_sweep, early_stopping, train_logs
from benchmarks.cost_sweep import table
from benchmarks.cost_sweep import seed_summary


def row(experiment: str, epochs: int, seed: int, val_dice: float, gain: float, model: str = "baseline",
        machine: str = "test CPU", s_per_epoch: float = 2.0) -> dict:
    return {"experiment": experiment, "model": model, "seed": seed, "width": 16, "epochs": epochs, "lr": 0.002,
            "batch": 4, "crop": 256, "val_every": 2, "soft": False, "loss": "bce+dice", "train_s": s_per_epoch * epochs,
            "s_per_epoch": s_per_epoch, "machine": machine, "val_dice": val_dice, "gain": gain,
            "test_f1": val_dice + 0.03, "test_auc": 0.97}


def body(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_summary_gives_mean_and_spread_per_setting_cheapest_first_and_converged_only_if_every_seed_is():
    rows = [row("long", 240, 0, 0.78, 0.001), row("long", 240, 1, 0.79, 0.002),
            row("short", 90, 1, 0.76, 0.005), row("short", 90, 0, 0.77, 0.001), row("short", 90, 0, 0.75, 0.0, "silu")]
    lines = body(seed_summary(rows))
    assert [line.split(" | ")[:3] for line in lines] == [["| baseline", "short", "0 1"], ["| baseline", "long", "0 1"],
                                                         ["| silu", "short", "0"]]
    assert lines[0].split(" | ")[3:7] == ["3.0", "0.7650 ± 0.0071", "+0.0030 ± 0.0028", "no"]  # 2 s x 90 epochs
    assert lines[1].split(" | ")[3:7] == ["8.0", "0.7850 ± 0.0071", "+0.0015 ± 0.0007", "yes"]
    assert lines[2].split(" | ")[3:7] == ["3.0", "0.7500", "+0.0000", "yes"]
    assert all(line.endswith(" | test CPU |") for line in lines)


def test_summary_keeps_one_settings_runs_on_different_machines_apart():
    rows = [row("short", 90, 0, 0.77, 0.001), row("short", 90, 1, 0.76, 0.005),
            row("short", 90, 0, 0.78, 0.001, machine="fast CPU", s_per_epoch=1.0)]
    lines = body(seed_summary(rows))
    assert [(line.split(" | ")[2], line.split(" | ")[3], line.split(" | ")[-1]) for line in lines] == \
        [("0", "1.5", "fast CPU |"), ("0 1", "3.0", "test CPU |")]


def test_grid_table_summarises_the_settings_and_lists_each_run_with_its_seed(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps([row("short", 90, 0, 0.77, 0.001)]))
    second.write_text(json.dumps([row("short", 90, 1, 0.76, 0.005)]))
    text = table([first, second])
    summary, rest = text.split("## The doubling rule")
    doubled, runs = rest.split("## Every run")
    assert body(doubled) == []  # no setting also ran twice as long
    assert len(body(summary)) == 1
    assert body(summary)[0].startswith("| baseline | short | 0 1 | 3.0 | 0.7650 ± 0.0071 |")
    assert sorted(line.split(" | ")[0] for line in body(runs)) == ["| short, seed 0 **(best val)**", "| short, seed 1"]


def test_every_run_names_its_optimiser_and_warm_up_and_older_rows_read_as_adam_without_warm_up(tmp_path):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([row("old", 90, 0, 0.77, 0.001),
                                {**row("new", 90, 0, 0.78, 0.001), "optimizer": "adamw", "weight_decay": 0.01,
                                 "warmup": 0.1},
                                {**row("warm", 90, 0, 0.76, 0.001), "optimizer": "adam", "weight_decay": 0.0,
                                 "warmup": 0.1}]))
    runs = body(table([rows]).split("## Every run")[1])
    assert {line.split(" | ")[0].split(",")[0]: line.split(" | ")[4] for line in runs} == \
        {"| old": "adam", "| new": "adamw 0.01, warm-up 0.1", "| warm": "adam, warm-up 0.1"}


def write_run(root, model: str, seed: int, val_dice: list[float]) -> None:
    """A training run's logs as the train stage writes them: run.json and dvclive's val/dice.tsv (every 2 epochs)."""
    run = root / model / f"seed{seed}"
    (run / "plots" / "metrics" / "val").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"model": model, "seed": seed, "device": "cpu", "machine": "test CPU",
                                              "epochs": 2 * len(val_dice), "train_seconds": 10.0 * len(val_dice),
                                              "seconds_per_epoch": 5.0}))
    lines = ["step\tdice"] + [f"{2 * i + 1}\t{d}" for i, d in enumerate(val_dice)]
    (run / "plots" / "metrics" / "val" / "dice.tsv").write_text("\n".join(lines) + "\n")


def test_train_logs_reads_best_and_final_validation_and_the_convergence_rule_per_run(tmp_path):
    write_run(tmp_path, "baseline", 0, [0.5, 0.70, 0.72, 0.71])  # last quarter 0.71 vs 0.72: -0.01, converged
    write_run(tmp_path, "baseline", 1, [0.5, 0.60, 0.70, 0.75])  # +0.05: still rising
    write_run(tmp_path, "silu256", 0, [0.6, 0.80, 0.79, 0.78])
    rows = train_logs.log_rows(tmp_path)
    assert [(r["model"], r["seed"], r["best_epoch"]) for r in rows] == [("baseline", 0, 6), ("baseline", 1, 8),
                                                                      ("silu256", 0, 4)]
    assert [round(r["gain"], 4) for r in rows] == [-0.01, 0.05, -0.01]
    assert [r["final_val"] for r in rows] == [0.71, 0.75, 0.78]
    lines = body(train_logs.table(tmp_path).split("\n\n")[1])
    assert lines[0].split(" | ")[:7] == ["| baseline", "0 1", "0.7350 ± 0.0212", "6 8", "0.7300 ± 0.0283",
                                         "+0.0200 ± 0.0424", "no"]
    assert lines[1].split(" | ")[6] == "yes"


@pytest.mark.parametrize("setting", list(cost_sweep.SETTINGS))
def test_every_setting_overrides_only_what_it_names_for_every_model(params, setting):
    named = cost_sweep.SETTINGS[setting]
    for model in params.models:
        spec, settings = cost_sweep.configure(params, setting, model, seed=7)
        base_spec, base_settings = params.models[model], params.train_settings(model, params.training_seeds[0])
        assert settings.seed == 7
        for key in ("width", "depth"):
            assert getattr(spec, key) == named.get(key, getattr(base_spec, key))
        for key in ("epochs", "lr", "batch_size", "crop", "loss"):
            assert getattr(settings, key) == named.get(key, getattr(base_settings, key))
        assert (spec.activation, spec.image_size, spec.attention, spec.input) == (
            base_spec.activation, base_spec.image_size, base_spec.attention, base_spec.input)


def test_a_setting_with_an_unknown_key_is_refused_by_name(params, monkeypatch):
    monkeypatch.setitem(cost_sweep.SETTINGS, "w8-typo", {"width": 8, "batch": 2})
    with pytest.raises(ValueError, match="setting w8-typo: batch is not a model or train setting"):
        cost_sweep.configure(params, "w8-typo", "baseline", 0)


@pytest.mark.parametrize("model, model_input", [("baseline", "raw"), ("camera_robust", "clahe")])
def test_a_grid_job_trains_its_setting_and_its_row_describes_that_run(project, tmp_path, monkeypatch, model,
                                                                       model_input):
    monkeypatch.chdir(project)  # the tiny project's params.yaml, overridden by the setting
    monkeypatch.setitem(cost_sweep.SETTINGS, "w2-e4", {"width": 2, "epochs": 4})
    row = cost_sweep.run_one(("w2-e4", model, 1, str(project / "data" / "processed"), str(tmp_path), 1))
    run = tmp_path / "w2-e4" / model / "seed1"
    logged = json.loads((run / "logs" / "run.json").read_text())
    dice = pd.read_csv(run / "logs" / "plots" / "metrics" / "val" / "dice.tsv", sep="\t")
    checkpoint = torch.load(run / "model" / "best.pt", weights_only=True)
    assert logged["epochs"] == row["epochs"] == 4 and logged["seed"] == row["seed"] == 1
    assert checkpoint["spec"]["width"] == row["width"] == 2 and checkpoint["epoch"] == row["best_epoch"]
    assert checkpoint["spec"]["input"] == model_input == row["input"] and row["model"] == model  # the variant's own
    assert row["val_dice"] == pytest.approx(dice["dice"].max()) and 0 < row["test_f1"] < 1


def test_early_stopping_stops_a_plateau_after_patience_and_never_stops_a_rising_curve(tmp_path):
    epochs = range(1, 100, 2)  # validated every 2 epochs, as the dvclive steps record them (0-based epochs)
    rising = pd.Series([0.5 + 0.005 * i for i in range(len(epochs))], index=list(epochs))
    assert early_stopping.stop_epoch(rising, patience=10, window=1) == 100
    plateau = pd.Series([min(0.5 + 0.0625 * i, 0.75) for i in range(len(epochs))], index=list(epochs))
    # the best, 0.75, first at the 5th validation (0-based epoch 9); unsmoothed, the stop is 10 epochs later
    assert early_stopping.stop_epoch(plateau, patience=10, window=1) == 20
    # the trailing mean over 3 validations reaches it two validations later, and so stops later
    assert early_stopping.stop_epoch(plateau, patience=10, window=3) == 24
    write_run(tmp_path, "baseline", 0, [0.5, 0.6, 0.7, 0.65, 0.64, 0.63, 0.62, 0.61, 0.6, 0.59, 0.58, 0.57, 0.56, 0.55])
    row = early_stopping.stopped_runs(tmp_path, patiences=(6,)).iloc[0]  # smoothed over 5, its best at epoch 14
    assert (row["stop"], row["kept"], row["full"], row["epochs"]) == (20, 0.7, 0.7, 28)
