"""The budget-sweep tables: a setting's seeds summarised, converged only when every seed is."""
from __future__ import annotations

import json

from benchmarks.budget_grid import table
from retina.sweep import seed_summary


def row(experiment: str, epochs: int, seed: int, val_dice: float, gain: float, model: str = "baseline") -> dict:
    return {"experiment": experiment, "model": model, "seed": seed, "width": 16, "epochs": epochs, "lr": 0.002,
            "batch": 4, "crop": 256, "val_every": 2, "soft": False, "loss": "bce+dice", "train_s": 2.0 * epochs,
            "s_per_epoch": 2.0, "machine": "test", "val_dice": val_dice, "gain": gain,
            "test_f1": val_dice + 0.03, "test_auc": 0.97}


def body(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_summary_gives_mean_and_spread_per_setting_cheapest_first_and_converged_only_if_every_seed_is():
    rows = [row("long", 240, 0, 0.78, 0.001), row("long", 240, 1, 0.79, 0.002),
            row("short", 90, 1, 0.76, 0.005), row("short", 90, 0, 0.77, 0.001), row("short", 90, 0, 0.75, 0.0, "silu")]
    lines = body(seed_summary(rows))
    assert [line.split(" | ")[:3] for line in lines] == [["| baseline", "short", "0 1"], ["| baseline", "long", "0 1"],
                                                         ["| silu", "short", "0"]]
    assert lines[0].split(" | ")[3:6] == ["0.7650 +- 0.0071", "+0.0030 +- 0.0028", "no"]
    assert lines[1].split(" | ")[3:6] == ["0.7850 +- 0.0071", "+0.0015 +- 0.0007", "yes"]
    assert lines[2].split(" | ")[3:6] == ["0.7500", "+0.0000", "yes"]


def test_grid_table_summarises_the_settings_and_lists_each_run_with_its_seed(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps([row("short", 90, 0, 0.77, 0.001)]))
    second.write_text(json.dumps([row("short", 90, 1, 0.76, 0.005)]))
    text = table([first, second])
    summary, runs = text.split("## Every run")
    assert len(body(summary)) == 1 and body(summary)[0].startswith("| baseline | short | 0 1 | 0.7650 +- 0.0071 |")
    assert sorted(line.split(" | ")[0] for line in body(runs)) == ["| short, seed 0 **(best val)**", "| short, seed 1"]
