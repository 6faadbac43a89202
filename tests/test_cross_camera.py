"""Models scored on another camera's labelled set (STARE): read and checked, scored like the test set, skipped cleanly
when none is configured; on the shared STARE copy with the tiny project's models."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from retina.config import CameraSet, MorphologySettings, PredictSettings
from retina.evaluate.cross_camera import score_cross_camera, score_sets
from retina.evaluate.labelled_sets import is_drive, read_labelled_set
from retina.errors import DataError
from retina.train.checkpoint import load_checkpoint
from retina.metrics import all_scores
from retina.predict.predict import predict_files, predict_photograph
from tests.conftest import MODELS, ROOT, unavailable
from tests.synthetic import fundus, write_labelled_set

STARE = ROOT.parent / "shared" / "data" / "stare"
DRIVE = ROOT.parent / "shared" / "data" / "drive"
HOW = MorphologySettings(spur_ratio=1.0, fov_degrees=45, um_per_degree=288, measure_fov_px=1024)


def _labelled_set(root: Path, n: int = 3) -> Path:
    return write_labelled_set(root, n, size=96)


def test_a_set_missing_on_this_machine_is_recorded_as_missing(tmp_path):
    sets = {"elsewhere": CameraSet("elsewhere", tmp_path / "no-such-set", 30.0)}
    summary = score_sets(sets, ["baseline"], (0,), tmp_path / "models", tmp_path / "out", 0.5, 10, 0, HOW)
    assert summary == {"sets": {"elsewhere": {"missing": str(tmp_path / "no-such-set"), "fov_degrees": 30.0}}}
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == summary
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["summary.json"]


def _other_layout(root: Path, suffix: str = "_manual", fov_mode: str = "P") -> Path:
    """A set in the images/ labels/ fov/ layout whose labels and masks add a suffix to the photograph's name (DR HAGIS,
    LES-AV), with palette FOV masks of indices {0, 1} (LES-AV's GIFs)."""
    for k in range(2):
        image, mask = fundus(k, size=80)
        for folder in ("images", "labels", "fov"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / "images" / f"{k + 1}.jpg", quality=95)
        Image.fromarray(((mask > 127) * 255).astype(np.uint8)).save(root / "labels" / f"{k + 1}{suffix}.png")
        disc = np.hypot(*np.mgrid[-40:40, -40:40]) < 38
        fov = Image.fromarray(disc.astype(np.uint8))
        (fov.convert("P") if fov_mode == "P" else fov.point(lambda v: v * 255)).save(root / "fov" / f"{k + 1}_mask.gif")
    return root


def test_labels_and_masks_named_with_a_suffix_and_palette_fov_masks_are_read(tmp_path):
    root = _other_layout(tmp_path / "set")
    data = read_labelled_set(root)
    assert data.names == ["1", "2"] and data.second is None and not is_drive(root)
    assert data.sizes == [(80, 80)] and all(f.dtype == bool for f in data.fov)
    disc = np.hypot(*np.mgrid[-40:40, -40:40]) < 38
    assert all(np.array_equal(f, disc) for f in data.fov)
    for k, label in enumerate(data.reference):
        assert np.array_equal(label, fundus(k, size=80)[1] > 127)


def test_a_set_is_read_with_both_annotators(tmp_path):
    root = _labelled_set(tmp_path / "set")
    data = read_labelled_set(root)
    assert data.names == ["im0", "im1", "im2"] and data.second is not None
    assert data.images[0].shape == (96, 96, 3) and data.reference[0].dtype == bool
    for k, name in enumerate(data.names):  # each annotator read from its own folder
        for folder, masks in (("labels-ah", data.reference), ("labels-vk", data.second)):
            assert np.array_equal(masks[k], np.asarray(Image.open(root / folder / f"{name}.png")) > 127)
        assert data.second[k].sum() > data.reference[k].sum()


def _soften(path: Path) -> None:
    """Give a binary label one soft-edged pixel, as resizing or JPEG would give many."""
    label = np.asarray(Image.open(path)).copy()
    label[0, 0] = 100
    Image.fromarray(label).save(path)


@pytest.mark.parametrize("damage, message", [
    (lambda r: (r / "labels-ah" / "im1.png").unlink(), "im1.png: file is missing"),
    (lambda r: Image.fromarray(np.zeros((50, 60), np.uint8)).save(r / "labels-ah" / "im2.png"),
     "im2.png: label is 60x50, its photograph 96x96"),
    (lambda r: (r / "images" / "im0.png").write_text("no image"), "im0.png: not a readable image"),
    (lambda r: [p.unlink() for p in (r / "labels-ah").iterdir()] and (r / "labels-ah").rmdir(), "no reference labels"),
    (lambda r: _soften(r / "labels-vk" / "im1.png"), "im1.png: label is not binary \\(3 grey levels: 0, 100, 255\\)"),
    (lambda r: Image.fromarray(np.arange(96 * 96, dtype=np.uint16).reshape(96, 96).astype(np.uint8)).save(
        r / "labels-ah" / "im0.png"), "im0.png: label is not binary \\(256 grey levels: 0, 1, 2, 3, ...\\)"),
])
def test_a_broken_set_is_refused_naming_the_file(tmp_path, damage, message):
    root = _labelled_set(tmp_path / "set")
    damage(root)
    with pytest.raises(DataError, match=message):
        read_labelled_set(root)


def test_stare_scored_like_the_test_set_with_the_human_reference(project, tmp_path):
    if not STARE.is_dir():
        unavailable("stare", "the shared STARE copy is not here")
    data = read_labelled_set(STARE)
    summary = score_cross_camera(list(MODELS), (0, 1), project / "models", data, tmp_path / "out", 0.5, 200, 0, HOW)
    assert summary["images"] == 20 and set(summary["models"]) == set(MODELS)
    # STARE's second annotator against the first inside the FOV: F1 ~0.74, the published human reference
    assert 0.72 < summary["annotator2"]["f1"] < 0.76
    per_seed = pd.read_csv(tmp_path / "out" / "per_seed.csv")
    assert len(per_seed) == 2 * len(MODELS) and per_seed["f1"].between(0, 1).all()
    # one image of one model, recomputed through predict's own path
    model, spec, _ = load_checkpoint(project / "models" / "silu256" / "seed0" / "best.pt")
    pred = predict_photograph([model], spec, data.images[4], 0.5)
    model1, spec1, _ = load_checkpoint(project / "models" / "silu256" / "seed1" / "best.pt")
    pred1 = predict_photograph([model1], spec1, data.images[4], 0.5)
    expected = all_scores((pred.probability + pred1.probability) / 2, data.reference[4], 0.5, pred.fov)["f1"]
    ensemble = pd.read_csv(tmp_path / "out" / "silu256" / "per_image.csv", index_col="image")
    assert ensemble.loc[data.names[4], "f1"] == pytest.approx(expected, abs=1e-4)
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == summary
    # what predict gives (the seeds' mean probability) is what the summary scores as "averaged"
    Image.fromarray(data.images[4]).save(tmp_path / "stare4.png")
    predict_files([tmp_path / "stare4.png"], [project / "models" / "silu256" / f"seed{s}" / "best.pt" for s in (0, 1)],
                  tmp_path / "predicted", 0.5)
    given = np.asarray(Image.open(tmp_path / "predicted" / "stare4_probability.png")).astype(float)
    assert np.abs(given - np.round((pred.probability + pred1.probability) / 2 * 255)).max() <= 1
    assert 0 < summary["models"]["silu256"]["averaged"]["f1"] < 1


def test_predicts_default_model_is_scored_as_predict_runs_it(tmp_path):
    data = read_labelled_set(_labelled_set(tmp_path / "set", n=2))
    product = PredictSettings("camera_robust", ("none", "left-right"), (0.5, 1.0), 0.3)
    summary = score_cross_camera(["baseline", "camera_robust"], (0,), ROOT / "models", data, tmp_path / "out", 0.5, 10,
                                 0, HOW, product)
    robust, base = summary["models"]["camera_robust"], summary["models"]["baseline"]
    assert robust["averaging"] == {"flips": ["none", "left-right"], "scales": [0.5, 1.0]} and robust["threshold"] == 0.3
    assert base["averaging"] == {"flips": ["none"], "scales": [1.0]} and base["threshold"] == 0.5
    model, spec, _ = load_checkpoint(ROOT / "models" / "camera_robust" / "seed0" / "best.pt")
    pred = predict_photograph([model], spec, data.images[1], 0.3, flips=product.flips, scales=product.scales)
    per_image = pd.read_csv(tmp_path / "out" / "camera_robust" / "per_image.csv", index_col="image")
    fov = data.fov[1] if data.fov is not None else pred.fov
    assert per_image.loc[data.names[1], "f1"] == pytest.approx(all_scores(pred.probability, data.reference[1], 0.3,
                                                                          fov)["f1"], abs=1e-6)


def test_drive_in_its_own_layout_is_its_test_set_at_565x584_in_the_official_fov():
    if not DRIVE.is_dir():
        unavailable("drive", "the shared DRIVE copy is not here")
    data = read_labelled_set(DRIVE)
    assert is_drive(DRIVE) and data.names[0] == "01_test" and len(data.names) == 20 and data.sizes == [(565, 584)]
    assert data.second is not None and data.fov is not None
    assert all(0.65 < f.mean() < 0.72 for f in data.fov)  # the official disc covers about 68% of the frame
    second = all_scores(np.concatenate([s[f] for s, f in zip(data.second, data.fov)]).astype(np.float32),
                        np.concatenate([r[f] for r, f in zip(data.reference, data.fov)]), 0.5)
    assert 0.78 < second["f1"] < 0.80  # DRIVE's second observer at its own protocol: F1 ~0.79, as published
