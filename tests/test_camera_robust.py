"""The camera-robustness table and the rule that picks predict's default input handling from it."""
from __future__ import annotations

import json

import pandas as pd

from benchmarks.camera_robust import VAL_TOLERANCE, choice, table


def rows(*entries: tuple[str, int, float, float]) -> list[dict]:
    return [{"candidate": c, "seed": s, "val_f1": v, "val_auc": 0.96, "val_gain": 0.001, "cross_f1": x,
             "cross_auc": 0.95, "train_seconds": 60.0, "machine": "test"} for c, s, v, x in entries]


def test_choice_takes_the_best_other_camera_score_that_costs_no_validation_f1():
    data = rows(("raw", 0, 0.78, 0.66), ("raw", 1, 0.77, 0.67),
                ("greedy", 0, 0.775 - VAL_TOLERANCE - 0.01, 0.80),  # travels best, but DRIVE would pay for it
                ("fair", 0, 0.772, 0.75), ("fair", 1, 0.770, 0.76), ("timid", 0, 0.79, 0.70))
    text = choice(pd.DataFrame(data))
    assert "**fair**" in text and "greedy" not in text.split("eligible:")[1]
    assert "STARE F1 0.7550" in text and "(0.7750)" in text


def test_table_gives_mean_and_spread_per_candidate_best_first(tmp_path):
    path = tmp_path / "rows.json"
    data = rows(("raw", 0, 0.78, 0.66), ("raw", 1, 0.76, 0.68), ("fair", 0, 0.775, 0.75))
    data[1].update(machine="cpu", train_seconds=400.0)
    path.write_text(json.dumps(data))
    text = table(path)
    body = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| candidate")]
    assert body[0].startswith("| fair | 0A | 0.7750 |") and body[1].startswith("| raw | 0A 1B | 0.7700 ± 0.0141 |")
    assert "0.6700 ± 0.0141" in body[1] and body[1].endswith("| 60 A, 400 B |")
    assert "Machines: A: test; B: cpu." in text
