"""Stage `preprocess`: resize, normalise, binarise, find fields of view and split by eye, for every model size.

    python -m stages.preprocess [--raw data/raw] [--out data/processed]
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from stages.atomic import atomic_path
from stages.cli import run_main
from stages.config import Params, load_params
from stages.timing import timed
from stages.data import NATIVE_SIZE, build_arrays, processed_dir, save_arrays, split_eyes, verify_dataset, verify_pair

log = logging.getLogger("preprocess")


def preprocess(params: Params, raw: Path, out: Path) -> dict:
    """Write out/<size>/{train,val,test}/*.npy for each model input size (and the native 512), and out/split.json."""
    pairs = verify_dataset(raw)
    native = {split: [verify_pair(p) for p in split_pairs] for split, split_pairs in pairs.items()}
    split = split_eyes(len(native["train"]), params.val_eyes, params.seed)
    groups = {"train": ("train", split["train"]), "val": ("train", split["val"]),
              "test": ("test", list(range(len(native["test"]))))}
    sizes = sorted(set(params.image_sizes) | {NATIVE_SIZE})
    with atomic_path(out) as tmp:
        for size in sizes:
            folder = processed_dir(tmp, size)
            folder.mkdir(parents=True)
            for name, (source, ids) in groups.items():
                arrays = build_arrays([native[source][i][0] for i in ids], [native[source][i][1] for i in ids],
                                      ids, size)
                save_arrays(arrays, folder / name)
            log.info("size %d: %s", size, ", ".join(f"{k} {len(v[1])}" for k, v in groups.items()))
        record = {"seed": params.seed, "sizes": sizes, **split}
        (tmp / "split.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--out", type=Path, default=Path("data/processed"))
    args = parser.parse_args()
    with timed("preprocess"):
        preprocess(load_params(), args.raw, args.out)


if __name__ == "__main__":
    run_main(main)
