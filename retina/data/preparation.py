"""Preprocessing: split the training eyes, turn images and masks into each model's input (size and kind), find fields
of view, and write the arrays that training and evaluation read."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from retina.data.arrays import Arrays, processed_dir, save_arrays
from retina.atomic import atomic_path
from retina.data.dataset import NATIVE_SIZE, SPLITS, list_pairs, verify_pair
from retina.errors import DataError
from retina.data.images import binarise, resize_grey
from retina.data.model_input import box_array, crop, input_fov, model_input, photograph_fov

log = logging.getLogger("preprocess")
COPIES_PER_EYE = 4  # train index 4g: original, 4g+1: left-right flip, 4g+2: top-bottom flip, 4g+3: rotated


def split_eyes(n_train: int, val_eyes: int, seed: int) -> dict[str, list[int]]:
    """Split training indices by eye (4 stored copies each) so no eye is on both sides."""
    if n_train % COPIES_PER_EYE:
        raise DataError(f"{n_train} training images is not a whole number of eyes ({COPIES_PER_EYE} copies each)")
    eyes = n_train // COPIES_PER_EYE
    if not 0 < val_eyes < eyes:
        raise DataError(f"val_eyes must be between 1 and {eyes - 1}, got {val_eyes}")
    order = np.random.default_rng(seed).permutation(eyes)
    val = sorted(int(e) for e in order[:val_eyes])
    train = sorted(int(e) for e in order[val_eyes:])

    def indices(group: list[int]) -> list[int]:
        return [e * COPIES_PER_EYE + c for e in group for c in range(COPIES_PER_EYE)]

    return {"train_eyes": train, "val_eyes": val, "train": indices(train), "val": indices(val)}


def build_arrays(images: list[np.ndarray], masks: list[np.ndarray], fovs: list[np.ndarray], ids: list[int],
                 size: int, kind: str = "raw") -> Arrays:
    """Turn native images, grey masks and their fields of view (photograph_fov) into compact uint8 arrays of a
    model's input (retina.data.model_input), with binary, soft and FOV masks under the same box.

    The soft mask is the area-averaged grey level (the fraction of each pixel that is vessel, x255: what a thin
    vessel leaves after down-sizing); the binary mask is the soft mask thresholded.
    """
    inputs = [model_input(img, fov, kind, size) for img, fov in zip(images, fovs)]
    soft = np.stack([np.clip(np.round(resize_grey(crop(m, box), size)), 0, 255).astype(np.uint8)
                     for m, (_, box) in zip(masks, inputs)])
    return Arrays(
        images=np.stack([x for x, _ in inputs]),
        masks=binarise(soft),
        soft=soft,
        fov=np.stack([input_fov(fov, box, size) for fov, (_, box) in zip(fovs, inputs)]),
        ids=np.asarray(ids, dtype=np.int64),
        boxes=np.stack([box_array(box) for _, box in inputs]),
    )


def preprocess(raw: Path, out: Path, inputs: list[tuple[int, str]], val_eyes: int, seed: int) -> dict:
    """Verify the raw set, split its eyes, and write {train,val,test}/*.npy for each (input size, kind) and the
    native 512 raw (out/512, out/256, out/512-flat, ...) with out/split.json; `out` is replaced only when everything
    succeeds."""
    native = {split: [verify_pair(p) for p in list_pairs(raw, split)] for split in SPLITS}
    fovs = {name: [photograph_fov(image) for image, _ in pairs] for name, pairs in native.items()}
    split = split_eyes(len(native["train"]), val_eyes, seed)
    groups = {"train": ("train", split["train"]), "val": ("train", split["val"]),
              "test": ("test", list(range(len(native["test"]))))}
    inputs = sorted(set(inputs) | {(NATIVE_SIZE, "raw")})
    with atomic_path(out) as tmp:
        for size, kind in inputs:
            folder = processed_dir(tmp, size, kind)
            folder.mkdir(parents=True)
            for name, (source, ids) in groups.items():
                arrays = build_arrays([native[source][i][0] for i in ids], [native[source][i][1] for i in ids],
                                      [fovs[source][i] for i in ids], ids, size, kind)
                save_arrays(arrays, folder / name)
            log.info("%s: %s", folder.name, ", ".join(f"{k} {len(v[1])}" for k, v in groups.items()))
        record = {"seed": seed, "inputs": [processed_dir(tmp, *i).name for i in inputs], **split}
        (tmp / "split.json").write_text(json.dumps(record, indent=1) + "\n")
    return record
