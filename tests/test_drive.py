"""DRIVE's second annotator as the human reference: read, resized like the first, refused clearly when broken."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retina.data.drive import drive_root, second_annotator
from retina.errors import DataError
from retina.metrics import confusion, threshold_scores
from tests.conftest import unavailable

SHARED_DRIVE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "drive"


def _palette_gif(path: Path, labels: np.ndarray) -> None:
    img = Image.fromarray(labels.astype(np.uint8), mode="P")
    img.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def test_palette_annotation_is_resized_to_512_and_binarised(tmp_path):
    labels = np.zeros((584, 565), np.uint8)
    labels[100:300, 200:260] = 1  # a 60 px wide block
    _palette_gif(tmp_path / "test" / "2nd_manual" / "03_manual2.gif", labels)
    [mask] = second_annotator(tmp_path, np.array([2]))
    assert mask.shape == (512, 512) and set(np.unique(mask)) == {0, 1}
    assert mask.sum() == pytest.approx(200 * 60 * (512 / 584) * (512 / 565), rel=0.03)


def test_missing_or_broken_annotation_is_named(tmp_path, monkeypatch):
    (tmp_path / "test" / "2nd_manual").mkdir(parents=True)
    with pytest.raises(DataError, match="01_manual2.gif: file is missing"):
        second_annotator(tmp_path, np.array([0]))
    (tmp_path / "test" / "2nd_manual" / "01_manual2.gif").write_text("no gif")
    with pytest.raises(DataError, match="01_manual2.gif: not a readable image"):
        second_annotator(tmp_path, np.array([0]))
    monkeypatch.setenv("RETINA_DRIVE", str(tmp_path / "elsewhere"))
    with pytest.raises(DataError, match="names no DRIVE folder"):
        drive_root()
    monkeypatch.delenv("RETINA_DRIVE")
    assert drive_root() is None


def test_second_annotator_agrees_with_the_first_as_published(tmp_path):
    """DRIVE's second observer scores F1 ~0.79 against the first (the human reference of the literature); the
    first observer's mask is read from DRIVE and resized the same way, as the study's test masks were."""
    if not SHARED_DRIVE.is_dir():
        unavailable("drive", "the shared DRIVE copy is not here")
    ids = np.arange(20)
    second = second_annotator(SHARED_DRIVE, ids).astype(bool)
    first, fov = [], []
    for k in ids:
        first.append(np.asarray(Image.open(SHARED_DRIVE / "test" / "1st_manual" / f"{k + 1:02d}_manual1.gif")
                                .resize((512, 512), Image.BILINEAR)) > 127)
        fov.append(np.asarray(Image.open(SHARED_DRIVE / "test" / "mask" / f"{k + 1:02d}_test_mask.gif")
                              .convert("L").resize((512, 512), Image.NEAREST)) > 127)
    f1 = threshold_scores(*confusion(second, np.stack(first), np.stack(fov)))["f1"]
    assert 0.77 < f1 < 0.81
