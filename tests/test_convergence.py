"""The doubling rule: twice the epochs of the same recipe, compared on one machine where it can be, else pooled."""
from __future__ import annotations

import json

import pytest

from benchmarks.cost_sweep import table
from retina.report.convergence import doubling, load_sweep_runs, recipe
from tests.conftest import ROOT


def run(params, model: str, epochs: int, seed: int, val_dice: float, machine: str = "CPU A", **changed) -> dict:
    """A sweep row of `model` with params.yaml's recipe, `changed` overriding it."""
    return {"experiment": f"e{epochs}", "model": model, "seed": seed, "epochs": epochs,
            "machine": f"{machine}, 2 threads, 1 jobs at once", "val_dice": val_dice, "gain": 0.0, "train_s": 60.0,
            "s_per_epoch": 1.0, "test_f1": 0.8, "test_auc": 0.97, **wanted(params, model), **changed}


def wanted(params, model: str = "baseline") -> dict:
    return recipe(params.models[model], params.train_settings(model, params.training_seeds[0]))


def test_twice_the_epochs_is_compared_seed_by_seed_on_the_machine_that_ran_both(params):
    runs = [run(params, "baseline", 180, 0, 0.780), run(params, "baseline", 180, 1, 0.776),
            run(params, "baseline", 360, 0, 0.786), run(params, "baseline", 360, 1, 0.784),
            # another machine ran only the short schedule, and a third seed only there: neither is paired
            run(params, "baseline", 180, 0, 0.700, machine="CPU B"), run(params, "baseline", 180, 2, 0.600)]
    d = doubling(runs, "baseline", wanted(params), 180)
    assert (d.short, d.long, d.pairs, d.machines) == (pytest.approx(0.778), pytest.approx(0.785), 2, ("CPU A, 2 threads",))
    assert not d.pooled and d.where() == "CPU A, 2 threads"
    assert d.gain == pytest.approx(0.007) and not d.converged
    flat = [run(params, "baseline", 180, 0, 0.780), run(params, "baseline", 360, 0, 0.782)]
    assert doubling(flat, "baseline", wanted(params), 180).converged  # +0.002 < 0.003
    # two machines that each ran both lengths: every pair counts, and nothing is pooled
    both = runs + [run(params, "baseline", 360, 0, 0.710, machine="CPU B")]
    d = doubling(both, "baseline", wanted(params), 180)
    assert d.pairs == 3 and not d.pooled and d.where() == "CPU A, 2 threads; CPU B, 2 threads"
    assert d.gain == pytest.approx((0.786 + 0.784 + 0.710 - 0.780 - 0.776 - 0.700) / 3)


def test_without_a_machine_that_ran_both_lengths_each_seed_is_averaged_over_machines(params):
    runs = [run(params, "silu256", 90, 0, 0.770, machine="CPU A"), run(params, "silu256", 90, 0, 0.780, machine="CPU B"),
            run(params, "silu256", 90, 1, 0.760, machine="CPU A"),  # seed 1 never ran twice as long
            run(params, "silu256", 180, 0, 0.777, machine="CPU C")]
    d = doubling(runs, "silu256", wanted(params, "silu256"), 90)
    assert (d.short, d.long, d.pairs) == (pytest.approx(0.775), pytest.approx(0.777), 1)
    assert d.machines == ("CPU A, 2 threads", "CPU B, 2 threads", "CPU C, 2 threads") and d.converged and d.pooled
    assert d.where().endswith("CPU C, 2 threads (pooled)")


def test_only_the_same_model_and_recipe_count_and_none_without_a_pair(params):
    runs = [run(params, "baseline", 180, 0, 0.78),
            run(params, "baseline", 360, 0, 0.80, lr=0.005),  # another learning rate
            run(params, "baseline", 360, 0, 0.80, activation="silu"),  # another model under the same name
            run(params, "camera_robust", 360, 0, 0.80)]
    assert doubling(runs, "baseline", wanted(params), 180) is None
    assert doubling(runs + [run(params, "baseline", 720, 0, 0.9)], "baseline", wanted(params), 180) is None
    older = {k: v for k, v in run(params, "baseline", 360, 0, 0.781).items()
             if k not in ("optimizer", "warmup", "weight_decay")}  # rows from before these settings: Adam's defaults
    assert doubling(runs + [older], "baseline", wanted(params), 180).long == pytest.approx(0.781)


def test_committed_sweep_rows_all_record_their_recipe_and_the_table_gives_the_rule(params, tmp_path):
    rows = load_sweep_runs(tmp_path / "absent")
    assert rows == []
    committed = load_sweep_runs(ROOT / "reports" / "cost_sweep" / "runs")
    assert committed and all(set(wanted(params)) <= set(r) | {"optimizer", "warmup", "weight_decay"}
                             for r in committed)
    f = tmp_path / "rows.json"
    f.write_text(json.dumps([run(params, "silu256", 90, 0, 0.770), run(params, "silu256", 180, 0, 0.790)]))
    section = table([f]).split("## The doubling rule")[1].split("## Every run")[0]
    assert "| silu256 | e90 -> e180 | 0.7700 -> 0.7900 | +0.0200 | no | 1 | CPU A, 2 threads |" in section
