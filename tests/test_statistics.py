"""The report's statistics and provenance on constructed inputs: convergence, seed spread, per-seed comparisons,
and the code fingerprint checked against dvc.lock."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from retina.report.provenance import code_provenance, provenance_summary, stage_names
from retina.evaluate.results import Results
from retina.evaluate.statistics import bland_altman, compare, last_quarter_gain, mean_sd


def test_last_quarter_gain_compares_the_last_two_quarters_of_validations():
    rising = pd.DataFrame({"val/dice": np.r_[np.full(4, 0.5), np.full(2, 0.6), np.full(2, 0.7)]})
    assert last_quarter_gain(rising) == pytest.approx(0.1)
    flat = pd.DataFrame({"val/dice": [0.2, np.nan, 0.7, np.nan, 0.7, np.nan, 0.7, np.nan]})  # val every 2 epochs
    assert last_quarter_gain(flat) == pytest.approx(0.0)
    assert math.isnan(last_quarter_gain(pd.DataFrame({"val/dice": [0.5]})))
    assert math.isnan(last_quarter_gain(pd.DataFrame({"train/dice": [0.5, 0.6]})))


def test_mean_sd_ignores_nan_and_has_no_sd_for_one_value():
    assert mean_sd([1.0, 3.0, np.nan]) == (2.0, pytest.approx(math.sqrt(2)))
    mean, sd = mean_sd([4.0])
    assert mean == 4.0 and math.isnan(sd)


def _scores(values: list[float], ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"fov_f1": values}, index=pd.Index(ids, name="image"))


def test_compare_pairs_each_seed_by_image_id_and_pools_the_seed_averages():
    ids = [3, 1, 2]
    res = Results(models=["a", "b"], seeds=(0, 1), histories={}, runs={}, evals={}, morphology={},
                  per_image={("a", 0): _scores([0.5, 0.6, 0.7], ids), ("b", 0): _scores([0.62, 0.71, 0.51], [1, 2, 3]),
                             ("a", 1): _scores([0.5, 0.5, 0.5], ids), ("b", 1): _scores([0.4, 0.4, 0.4], ids)},
                  ensemble={"a": _scores([0.5, 0.6, 0.7], ids), "b": _scores([0.62, 0.72, 0.52], [1, 2, 3])},
                  per_seed=None, truth_morphology=None, annotator2_morphology=None, annotator2_f1=None,
                  ceiling=None, cross_camera=None, timings=[])
    per_seed, pooled = compare(res, "a", "b", "fov_f1", 200, 0)
    assert per_seed == [pytest.approx(0.04 / 3), pytest.approx(-0.1)]
    # paired by image id, b is better on every image (by row order it would win on 2 of 3)
    assert pooled["mean_diff"] == pytest.approx(0.02) and pooled["b_wins"] == 3 and pooled["n"] == 3
    res.ensemble.pop("b")
    assert compare(res, "a", "b", "fov_f1", 200, 0)[1] is None


def test_provenance_names_the_code_and_finds_outputs_made_by_other_code(tmp_path):
    (tmp_path / "retina" / "train").mkdir(parents=True)
    (tmp_path / "stages").mkdir()
    (tmp_path / "retina" / "z.py").write_text("c = 3\n")
    (tmp_path / "retina" / "train" / "x.py").write_text("a = 1\n")  # library code lives in subpackages
    (tmp_path / "stages" / "y.py").write_text("b = 2\n")
    assert not code_provenance(tmp_path).lock_found
    prov = code_provenance(tmp_path)
    assert sorted(prov.files) == ["retina/train/x.py", "retina/z.py", "stages/y.py"]
    lock = {"schema": "2.0", "stages": {"train": {"deps": [{"path": "retina/train/x.py",
                                                           "md5": prov.files["retina/train/x.py"]},
                                                          {"path": "data/processed", "md5": "abc.dir"}]}}}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock))
    same = code_provenance(tmp_path)
    assert same.stale == [] and "ran with exactly these files" in provenance_summary(same)
    (tmp_path / "retina" / "train" / "x.py").write_text("a = 2\n")
    changed = code_provenance(tmp_path)
    assert changed.stale == ["train: retina/train/x.py"] and changed.fingerprint != same.fingerprint
    assert "Some outputs came from other code" in provenance_summary(changed)


def test_stage_names_expand_matrices_like_dvc():
    pipeline = {"stages": {"prep": {"cmd": "x"}, "train": {"matrix": {"seed": "${seeds}"}},
                           "tv": {"matrix": {"model": "${variants}", "seed": "${seeds}"}}}}
    params = {"seeds": [0, 1], "variants": {"a": {}, "b": {}}}
    assert stage_names(pipeline, params) == {"prep", "train@0", "train@1", "tv@a-0", "tv@a-1", "tv@b-0", "tv@b-1"}


def test_provenance_ignores_stages_gone_from_dvc_yaml_and_the_stage_being_written(tmp_path):
    (tmp_path / "retina").mkdir()
    (tmp_path / "retina" / "x.py").write_text("a = 1\n")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"train": {"matrix": {"seed": "${seeds}"}},
                                                                  "report": {"cmd": "r"}}}))
    old = {"deps": [{"path": "retina/x.py", "md5": "0" * 32}]}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump({"stages": {"train_old": old, "report": old, "train@0": old}}))
    prov = code_provenance(tmp_path, params={"seeds": [0]})
    assert prov.stale == ["train@0: retina/x.py"]


def test_bland_altman_bias_limits_and_correlation():
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(10, 3, 400), index=range(400))
    noise = rng.normal(0, 0.5, 400)
    measured = (reference + 2 + noise).iloc[::-1]  # another order: paired by index, not by position
    ba = bland_altman(measured, reference)
    assert ba["n"] == 400 and ba["bias"] == pytest.approx(2 + noise.mean())
    assert ba["upper"] - ba["lower"] == pytest.approx(2 * 1.96 * noise.std(ddof=1))
    assert ba["r"] == pytest.approx(np.corrcoef(reference + noise, reference)[0, 1])


def test_bland_altman_drops_nan_pairs_and_needs_three():
    ref = pd.Series([1.0, 2.0, 3.0, 4.0])
    ba = bland_altman(pd.Series([1.5, np.nan, 3.5, 4.5]), ref)
    assert ba["n"] == 3 and ba["bias"] == pytest.approx(0.5) and ba["lower"] == pytest.approx(0.5)
    assert ba["r"] == pytest.approx(1.0)
    assert math.isnan(bland_altman(pd.Series([1.0, np.nan]), pd.Series([1.0, 2.0]))["bias"])
    assert math.isnan(bland_altman(pd.Series([2.0, 2.0, 2.0]), pd.Series([1.0, 2.0, 3.0]))["r"])
