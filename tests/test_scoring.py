"""Fast checks of scoring and of the report's tables on small constructed inputs: a second annotator scored like a
model, another camera's set scored with tiny untrained models, and the tables the report and benchmarks print."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from retina.measure.morphology import vessel_measures
from retina.config import MorphologySettings, ModelSpec, run_dir
from retina.evaluate.claims import Claim
from retina.evaluate.cross_camera import read_labelled_set, score_cross_camera
from retina.evaluate.scoring import score_annotator
from retina.metrics import all_scores
from retina.predict.predict import predict_photograph
from retina.report.report import claims_section
from retina.summary import format_pm, markdown_table, mean_pm
from retina.train.checkpoint import load_checkpoint, save_checkpoint
from retina.train.model import UNet
from tests.synthetic import fundus_arrays, write_labelled_set

HOW = MorphologySettings(spur_ratio=1.0, fov_degrees=45, um_per_degree=288, measure_fov_px=1024)


def test_a_perfect_and_a_half_blind_annotator_score_as_counted_by_hand(tmp_path):
    truth = fundus_arrays(range(3), 128)
    assert score_annotator(truth.masks.copy(), truth, 0.5, HOW, tmp_path / "perfect") == 1.0
    half = truth.masks.copy()
    half[:, :, :64] = 0  # misses every vessel of the left half
    f1 = score_annotator(half, truth, 0.5, HOW, tmp_path / "half")
    fov, vessel, found = truth.fov.astype(bool), truth.masks.astype(bool), half.astype(bool)
    tp, fn = (vessel & found & fov).sum(), (vessel & ~found & fov).sum()
    assert f1 == pytest.approx(2 * tp / (2 * tp + fn)) and 0.2 < f1 < 0.9
    per_image = pd.read_csv(tmp_path / "half" / "per_image.csv", index_col="image")
    morphology = pd.read_csv(tmp_path / "half" / "morphology.csv", index_col="image")
    assert list(per_image.index) == list(morphology.index) == list(truth.ids)
    assert json.loads((tmp_path / "half" / "metrics.json").read_text())["pooled"]["fov_f1"] == f1
    perfect = pd.read_csv(tmp_path / "perfect" / "morphology.csv", index_col="image")
    assert (morphology["length"] < perfect["length"]).all()  # half the tree measures shorter


def test_another_camera_is_scored_per_seed_averaged_and_against_its_second_annotator(tmp_path):
    spec = ModelSpec("tiny", "relu", 64, "none", width=4, depth=2, se_reduction=2)
    for seed in (0, 1):
        torch.manual_seed(seed)
        save_checkpoint(tmp_path / "models" / run_dir("tiny", seed) / "best.pt", UNet.from_spec(spec).state_dict(),
                        spec, epoch=1, seed=seed)
    data = read_labelled_set(write_labelled_set(tmp_path / "set", n=3, size=96))
    summary = score_cross_camera(["tiny"], (0, 1), tmp_path / "models", data, tmp_path / "out", 0.5, 100, 0, HOW)
    models = [load_checkpoint(tmp_path / "models" / run_dir("tiny", s) / "best.pt")[0] for s in (0, 1)]
    preds = [[predict_photograph([m], spec, image, 0.5) for image in data.images] for m in models]
    fovs = [p.fov for p in preds[0]]

    def pooled(probs: list[np.ndarray], masks: list[np.ndarray]) -> dict[str, float]:
        return all_scores(np.concatenate([p[f] for p, f in zip(probs, fovs)]),
                          np.concatenate([t[f] for t, f in zip(masks, fovs)]), 0.5)

    per_seed = [pooled([p.probability for p in run], data.reference)["f1"] for run in preds]
    averaged = pooled([(a.probability + b.probability) / 2 for a, b in zip(*preds)], data.reference)
    tiny = summary["models"]["tiny"]
    assert tiny["seeds"] == 2 and tiny["f1"] == pytest.approx(np.mean(per_seed), abs=1e-6)
    assert tiny["averaged"]["f1"] == pytest.approx(averaged["f1"], abs=1e-6)
    second = pooled([m.astype(np.float32) for m in data.second], data.reference)
    assert summary["annotator2"]["f1"] == pytest.approx(second["f1"]) and second["f1"] < 1
    assert len(pd.read_csv(tmp_path / "out" / "per_seed.csv")) == 2
    # lengths: the seed-averaged mask as predict measures it, against the annotation's
    per_image = pd.read_csv(tmp_path / "out" / "tiny" / "per_image.csv", index_col="image")
    truth = [vessel_measures(t, f).summary["length"] for t, f in zip(data.reference, fovs)]
    given = [vessel_measures((a.probability + b.probability) / 2 > 0.5, f).summary["length"]
             for a, b, f in zip(*preds, fovs)]
    assert per_image["annotation_length"].tolist() == pytest.approx(truth) and min(truth) > 0
    assert per_image["length"].tolist() == pytest.approx(given)
    assert tiny["length_ratio"] == pytest.approx(sum(given) / sum(truth))
    assert summary["annotation_length"] == pytest.approx(sum(truth))
    second_length = sum(vessel_measures(m, f).summary["length"] for m, f in zip(data.second, fovs))
    assert summary["annotator2"]["length_ratio"] == pytest.approx(second_length / sum(truth))


def test_mean_pm_and_tables_read_alike_everywhere():
    assert mean_pm([0.80, 0.82]) == "0.8100 ± 0.0141"
    assert mean_pm([0.8, float("nan")]) == "0.8000"  # one finite seed: no spread to give
    assert mean_pm([0.001, 0.003], sign="+") == "+0.0020 ± 0.0014"
    assert format_pm(None, 0.1) == "n/a" and format_pm(0.5, None, digits=2) == "0.50"
    assert markdown_table(["a", "b"], [[1, "x"], [2.5, "y"]]).splitlines() == ["| a | b |", "|---|---|", "| 1 | x |",
                                                                              "| 2.5 | y |"]


def test_the_claims_table_gives_each_claim_its_measure_and_bold_verdict():
    claims = [Claim("baseline accuracy below 0.6", "0.95 [0.94, 0.96]", "contradicted"),
              Claim("SE: predictions better", "+0.004", "not shown")]
    rows = [line for line in "\n".join(claims_section(claims, "bce+dice")).splitlines() if line.startswith("| ")]
    assert rows[0] == "| claim of the study | measured | verdict |"
    assert rows[1:] == ["| baseline accuracy below 0.6 | 0.95 [0.94, 0.96] | **contradicted** |",
                        "| SE: predictions better | +0.004 | **not shown** |"]


def test_the_other_cameras_table_has_a_row_per_set_and_model_and_names_missing_sets(params):
    from retina.evaluate.results import Results
    from retina.report.report import cross_camera_section

    def model(f1: float) -> dict:
        scores = {"f1": f1, "auc_roc": 0.95, "auc_pr": 0.8, "accuracy": 0.94, "sensitivity": 0.7,
                  "specificity": 0.97, "precision": 0.8}
        return {"seeds": 2, **scores, "f1_sd": 0.01, "auc_roc_sd": 0.002, "averaged": scores,
                "ensemble_f1": f1 - 0.01, "ensemble_f1_ci": [f1 - 0.03, f1 + 0.01]}

    summary = {"sets": {
        "drive": {"images": 20, "sizes": [[565, 584]], "fov_degrees": 45, "layout": "drive",
                  "models": {"baseline": model(0.81)}},
        "les_av": {"images": 22, "sizes": [[2196, 1958], [1620, 1444]], "fov_degrees": 30, "layout": "images/labels",
                   "models": {"baseline": model(0.63), "camera_robust": model(0.77)},
                   "annotator2": {"f1": 0.78, "sensitivity": 0.8, "precision": 0.76, "per_image_f1": 0.77,
                                  "per_image_f1_ci": [0.75, 0.79]}},
        "drhagis": {"missing": "../shared/data/drhagis", "fov_degrees": 45}}}
    res = Results(models=["baseline"], seeds=(0, 1), histories={}, runs={}, evals={}, morphology={}, per_image={},
                  ensemble={}, per_seed=None, truth_morphology=None, annotator2_morphology=None, annotator2_f1=None,
                  ceiling=None, cross_camera=summary, timings=[])
    lines = "\n".join(cross_camera_section(params, res, pd.DataFrame(columns=["model", "fov_f1"]))).splitlines()
    rows = [line for line in lines if line.startswith("| ") and "model |" not in line]
    assert rows[0].startswith("| DRIVE test, its own protocol (45°, 20 photographs, 565x584) | baseline | 0.8100 |")
    assert rows[1].startswith("| les_av (30°, 22 photographs, 2196x1958, 1620x1444) | baseline | 0.6300 | 0.6300 ± 0.0100 |")
    assert rows[3].startswith("| les_av (30°, 22 photographs, 2196x1958, 1620x1444) | second annotator | 0.7800 |")
    assert len(rows) == 4 and "Not on this machine: `drhagis` (../shared/data/drhagis)." in "\n".join(lines)
