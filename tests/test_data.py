"""Download and preprocess: verification, bad input, outputs left intact, the eye-grouped split, FOV masks."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from retina.data.arrays import load_arrays, processed_dir, read_split_json
from retina.data.preparation import COPIES_PER_EYE, preprocess, split_eyes
from retina.data.dataset import verify_dataset
from retina.errors import DataError, SourceError
from retina.data.sources import import_dataset
from tests.conftest import ROOT
from tests.synthetic import COUNTS

REFERENCE = ROOT / "data" / "reference.sha256"


def download(source: Path | str, out: Path, strict: bool = False) -> list[str]:
    return import_dataset(str(source), out, REFERENCE, strict)


@pytest.fixture
def raw(synthetic_source, tmp_path) -> Path:
    """data/raw made by the download stage from the synthetic set."""
    out = tmp_path / "raw"
    download(synthetic_source, out)
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_download_copies_and_writes_manifest(raw: Path):
    images = sorted((raw / "train" / "image").glob("*.png"))
    assert len(images) == COUNTS["train"] and len(list((raw / "test" / "mask").glob("*.png"))) == COUNTS["test"]
    lines = (raw / "manifest.sha256").read_text().splitlines()
    assert len(lines) == 2 * sum(COUNTS.values()) and all(len(line.split()[0]) == 64 for line in lines)


def test_reference_mismatch_warns_or_fails_when_strict(synthetic_source, tmp_path):
    problems = download(synthetic_source, tmp_path / "raw")
    assert len(problems) == 200  # one per file of the real set: differs (the synthetic ones) or missing
    with pytest.raises(DataError, match="strict"):
        download(synthetic_source, tmp_path / "raw2", strict=True)
    assert not (tmp_path / "raw2").exists()


def test_environment_variable_overrides_source(params, monkeypatch):
    monkeypatch.setenv("RETINA_DATA", "/some/local/copy")
    assert params.data_source() == "/some/local/copy"
    monkeypatch.delenv("RETINA_DATA")
    assert params.data_source() == params.source


def test_zip_source_with_data_level(synthetic_source, tmp_path):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in synthetic_source.rglob("*.png"):
            zf.write(p, Path("Data") / p.relative_to(synthetic_source))
    download(archive, tmp_path / "raw")
    assert len(list((tmp_path / "raw").rglob("*.png"))) == 2 * sum(COUNTS.values())


def _damage_missing_mask(src: Path) -> Path:
    path = src / "train" / "mask" / "5.png"
    path.unlink()
    return path


def _damage_corrupt_png(src: Path) -> Path:
    path = src / "test" / "image" / "3.png"
    path.write_bytes(path.read_bytes()[:200])
    return path


def _damage_mask_size(src: Path) -> Path:
    path = src / "train" / "mask" / "7.png"
    Image.fromarray(np.zeros((256, 256), np.uint8)).save(path)
    return path


def _damage_wrong_count(src: Path) -> Path:
    for kind in ("image", "mask"):
        (src / "test" / kind / "2.png").unlink()
    return src / "test"


def _damage_greyscale(src: Path) -> Path:
    path = src / "train" / "image" / "2.png"
    Image.open(path).convert("L").save(path)
    return path


def _damage_rgba(src: Path) -> Path:
    path = src / "train" / "image" / "2.png"
    Image.open(path).convert("RGBA").save(path)
    return path


def _damage_empty_mask(src: Path) -> Path:
    path = src / "test" / "mask" / "3.png"
    Image.fromarray(np.zeros((512, 512), np.uint8)).save(path)
    return path


def _damage_odd_name(src: Path) -> Path:
    path = src / "train" / "image" / "copy of 3.png"
    shutil.copy(src / "train" / "image" / "3.png", path)
    return src / "train" / "image"


@pytest.mark.parametrize("damage, message", [
    (_damage_missing_mask, "file is missing"),
    (_damage_corrupt_png, "not a readable image"),
    (_damage_mask_size, "size is 256x256; expected 512x512"),
    (_damage_wrong_count, "without gaps; 2.png missing"),
    (_damage_greyscale, "greyscale"),
    (_damage_rgba, "colour with alpha"),
    (_damage_empty_mask, "no vessel pixel"),
    (_damage_odd_name, "unexpected file names"),
])
def test_bad_input_is_refused_by_name_and_earlier_output_kept(raw, source_copy, damage, message):
    before = snapshot(raw)
    bad = damage(source_copy)
    with pytest.raises(DataError) as err:
        download(source_copy, raw)
    assert str(bad) in str(err.value) and message in str(err.value)
    assert snapshot(raw) == before


def test_truncated_zip_is_refused(raw, synthetic_source, tmp_path):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in synthetic_source.rglob("*.png"):
            zf.write(p, p.relative_to(synthetic_source))
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    before = snapshot(raw)
    with pytest.raises(SourceError, match=f"{archive}.*truncated"):
        download(archive, raw)
    assert snapshot(raw) == before


@pytest.mark.parametrize("source", ["http://127.0.0.1:9/retina.zip", "/no/such/folder"])
def test_unreachable_source_says_how_to_supply_data(raw, source):
    before = snapshot(raw)
    with pytest.raises(SourceError, match="RETINA_DATA"):
        download(source, raw)
    assert snapshot(raw) == before


def test_split_keeps_each_eye_on_one_side():
    split = split_eyes(80, 4, seed=0)
    assert len(split["val"]) == 16 and len(split["train"]) == 64
    eyes = {side: {i // COPIES_PER_EYE for i in split[side]} for side in ("train", "val")}
    assert not eyes["train"] & eyes["val"]
    assert sorted(split["train"] + split["val"]) == list(range(80))
    assert split_eyes(80, 4, seed=0) == split and split_eyes(80, 4, seed=1) != split


@pytest.fixture
def processed(raw, tmp_path) -> Path:
    out = tmp_path / "processed"
    preprocess(raw, out, [(512, "raw"), (128, "raw"), (128, "raw"), (128, "flat")], val_eyes=1, seed=0)
    return out


def test_preprocess_shapes_ranges_and_split(processed):
    out = processed
    assert sorted(p.name for p in out.iterdir()) == ["128", "128-flat", "512", "split.json"]
    record = read_split_json(out)
    for size, folder in ((128, "128"), (512, "512"), (128, "128-flat")):
        for split, n in (("train", COUNTS["train"] - 4), ("val", 4), ("test", COUNTS["test"])):
            a = load_arrays(out / folder / split)
            assert a.images.shape == (n, size, size, 3) and a.images.dtype == np.uint8
            assert a.masks.shape == a.fov.shape == (n, size, size)
            assert set(np.unique(a.masks)) == {0, 1} and set(np.unique(a.fov)) <= {0, 1}
            assert a.soft.shape == a.masks.shape and np.array_equal(a.masks, (a.soft > 127).astype(np.uint8))
            assert a.boxes.shape == (n, 4)
            if split != "test":
                assert list(a.ids) == record[split]
    val_eyes = {i // 4 for i in record["val"]}
    assert not val_eyes & {i // 4 for i in record["train"]} and len(val_eyes) == 1


def test_soft_masks_keep_the_vessel_fraction_that_binarising_loses(processed):
    out = processed
    native, small = load_arrays(out / "512" / "test"), load_arrays(out / "128" / "test")
    # area-averaging keeps the vessel area (16 native pixels per 128 pixel): the soft mask's mean grey level
    # matches the native vessel fraction, within the anti-aliasing blur
    native_fraction = native.soft.astype(float).mean() / 255
    assert abs(small.soft.astype(float).mean() / 255 - native_fraction) < 0.1 * native_fraction
    assert len(np.unique(small.soft)) > 100  # grey levels, not a binary mask


def test_fov_covers_disc_not_corners(processed):
    out = processed
    a = load_arrays(out / "512" / "test")
    yy, xx = np.mgrid[:512, :512]
    r = np.hypot(yy - 256, xx - 256)
    for fov in a.fov:
        assert fov[r < 200].mean() > 0.999  # inside the synthetic disc (radius 220)
        assert fov[r > 240].mean() < 0.001  # the black corners


def test_preprocess_is_byte_identical_on_rerun(processed, raw, tmp_path):
    out = processed
    preprocess(raw, tmp_path / "again", [(512, "raw"), (128, "raw"), (128, "flat")], val_eyes=1, seed=0)
    assert snapshot(out) == snapshot(tmp_path / "again")


def test_real_data_verifies_and_preprocesses(params, real_source, tmp_path):
    problems = download(real_source, tmp_path / "raw", strict=True)
    assert problems == []
    pairs = verify_dataset(tmp_path / "raw")
    assert {k: len(v) for k, v in pairs.items()} == {"train": 80, "test": 20}
    record = preprocess(tmp_path / "raw", tmp_path / "processed", params.inputs, params.val_eyes, params.split_seed)
    assert set(record["inputs"]) == {processed_dir(Path(), *i).name for i in params.inputs} | {"512"}
    test = load_arrays(tmp_path / "processed" / "512" / "test")
    fraction = test.masks.mean(axis=(1, 2))
    assert ((fraction > 0.05) & (fraction < 0.13)).all()
    drive = real_source.parent / "drive" / "test" / "mask"
    if drive.is_dir():  # the DRIVE FOV masks of the same test images, resized: our FOV must match them
        for k, fov in enumerate(test.fov):
            ref = np.asarray(Image.open(drive / f"{k + 1:02d}_test_mask.gif").convert("L").resize((512, 512))) > 127
            dice = 2 * (fov.astype(bool) & ref).sum() / (fov.sum() + ref.sum())
            assert dice > 0.97, f"test image {k}: FOV Dice {dice:.3f} against DRIVE's mask"
    split = json.loads((tmp_path / "processed" / "split.json").read_text())
    assert not {i // 4 for i in split["val"]} & {i // 4 for i in split["train"]}


def test_a_zip_member_with_a_bad_crc_is_refused_naming_it(raw, synthetic_source, tmp_path):
    archive = tmp_path / "set.zip"
    member = "train/image/1.png"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:  # stored: the bytes lie as they are
        for p in sorted(synthetic_source.rglob("*.png")):
            zf.write(p, p.relative_to(synthetic_source).as_posix())
        offset = zf.getinfo(member).header_offset
    data = bytearray(archive.read_bytes())
    start = offset + 30 + len(member)  # past the member's local header (no extra field)
    data[start + 100] ^= 0xFF  # one flipped byte inside the member's data
    archive.write_bytes(bytes(data))
    before = snapshot(raw)
    with pytest.raises(SourceError, match=f"{archive}: corrupt member {member} \\(CRC mismatch\\)"):
        download(archive, raw)
    assert snapshot(raw) == before


@pytest.mark.parametrize("keep", [20, 200])
def test_a_truncated_array_is_one_line_naming_it(processed, keep):
    path = processed_dir(processed, 128) / "train" / "masks.npy"
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(DataError, match=f"{path}: not a readable array") as err:
        load_arrays(path.parent)
    assert "\n" not in str(err.value)
