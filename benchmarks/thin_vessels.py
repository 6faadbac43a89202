"""Can predict's mask keep the thinnest vessels without losing F1? Ways to turn predict's probability into a mask,
scored on the validation eyes and on the other-camera sets.

    python -m benchmarks.thin_vessels > reports/thin_vessels.md

Predict's mask (threshold 0.5) holds 70-83% of the annotated vessel length, and the vessels 1-2 px wide are 93% of
what it misses (reports/length_shortfall.md): their probability is there, but below 0.5. Candidates: a lower
threshold, and hysteresis (skimage.filters.apply_hysteresis_threshold: a pixel above the low level is vessel when it
connects to one above 0.5, so a faint continuation of a vessel is kept and a faint speck is not). The probability is
predict's own (params.yaml `predict`: its model's seeds, mirror images and input scales), computed once per
photograph; each set is scored inside its scoring field of view, and the length is measured as predict measures it,
over the annotation's (the cross_camera stage's `annotation_length`, measured at the annotation's own size; on the
validation eyes, measured here at 512x512).

The rule, written before any figure was read: among the candidates whose pooled F1 on the validation eyes is at most
0.005 below threshold 0.5's, the one whose total length on the validation eyes is nearest the annotation's (a tie
goes to the first listed). The other cameras are reported, not chosen on.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from skimage.filters import apply_hysteresis_threshold

from retina.config import load_params, model_spec, run_dir
from retina.data.arrays import load_arrays, processed_dir
from retina.data.dataset import NATIVE_SIZE
from retina.data.model_input import photograph_fov
from retina.evaluate.labelled_sets import is_drive, read_labelled_set
from retina.machine import describe
from retina.measure.morphology import vessel_measures
from retina.predict.predict import predict_photograph
from retina.summary import markdown_table
from retina.train.checkpoint import load_checkpoint

HIGH = 0.5  # predict's threshold: every candidate keeps what it keeps
CANDIDATES = {  # name: how a probability map becomes a mask
    "threshold 0.5": lambda p: p > 0.5,
    "threshold 0.45": lambda p: p > 0.45,
    "threshold 0.4": lambda p: p > 0.4,
    "threshold 0.35": lambda p: p > 0.35,
    "hysteresis 0.4-0.5": lambda p: apply_hysteresis_threshold(p, 0.4, HIGH),
    "hysteresis 0.3-0.5": lambda p: apply_hysteresis_threshold(p, 0.3, HIGH),
    "hysteresis 0.2-0.5": lambda p: apply_hysteresis_threshold(p, 0.2, HIGH),
}
VAL_TOLERANCE = 0.005


def _sets(params, names: list[str] | None) -> dict[str, tuple[list, list, list, list | None]]:
    """name: (photographs, references, scoring FOVs, annotation lengths or None to measure them here)."""
    val = load_arrays(processed_dir(Path("data/processed"), NATIVE_SIZE) / "val")
    sets = {"val": (list(val.images), [m.astype(bool) for m in val.masks], [f.astype(bool) for f in val.fov], None)}
    for name, camera in params.other_cameras.items():
        if is_drive(camera.path) or not camera.path.is_dir() or (names and name not in names):
            continue
        data = read_labelled_set(camera.path)
        scored = Path("reports/cross_camera") / name / params.predict.model / "per_image.csv"
        lengths = pd.read_csv(scored, index_col="image", dtype={"image": str})["annotation_length"]
        lengths = lengths.reindex(data.names).tolist()
        if any(np.isnan(lengths)):
            raise SystemExit(f"{scored}: no annotation length for some of {name}'s photographs; run dvc repro first")
        fovs = data.fov if data.fov is not None else [photograph_fov(im) for im in data.images]
        sets[name] = (data.images, data.reference, fovs, lengths)
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="*", help="other-camera sets of params.yaml (default: all but DRIVE's)")
    args = parser.parse_args()
    params = load_params()
    how, fine = params.predict, params.morphology
    spec = model_spec(params, how.model)
    models = [load_checkpoint(Path("models") / run_dir(spec.name, s) / "best.pt")[0] for s in params.training_seeds]
    started = time.perf_counter()
    rows = []
    for set_name, (images, truths, fovs, truth_lengths) in _sets(params, args.sets).items():
        counts = {name: np.zeros(3) for name in CANDIDATES}  # true positives, predicted, annotated
        lengths = {name: 0.0 for name in CANDIDATES}
        annotated = 0.0
        for k, (image, truth, fov) in enumerate(zip(images, truths, fovs)):
            prob = predict_photograph(models, spec, image, HIGH, flips=how.flips, scales=how.scales).probability
            annotated += (vessel_measures(truth & fov, fov, fine.spur_ratio).summary["length"]
                          if truth_lengths is None else truth_lengths[k])
            for name, rule in CANDIDATES.items():
                mask = rule(prob) & fov
                counts[name] += (mask & truth).sum(), mask.sum(), (truth & fov).sum()
                lengths[name] += vessel_measures(mask, fov, fine.spur_ratio, fov_px=fine.measure_fov_px
                                                 ).summary["length"]
        for name in CANDIDATES:
            hit, predicted, truth_count = counts[name]
            rows.append({"set": set_name, "candidate": name, "f1": 2 * hit / (predicted + truth_count),
                         "sensitivity": hit / truth_count, "precision": hit / predicted,
                         "length_ratio": lengths[name] / annotated})
        print(f"{set_name}: {len(images)} photographs, {time.perf_counter() - started:.0f} s", file=sys.stderr,
              flush=True)
    table = pd.DataFrame(rows)
    val = table[table.set == "val"].set_index("candidate")
    eligible = val[val.f1 >= val.loc["threshold 0.5", "f1"] - VAL_TOLERANCE]
    chosen = (eligible.length_ratio - 1).abs().idxmin()
    print(f"# Keeping the thinnest vessels: ways to turn predict's probability into a mask\n\n"
          f"Predict's probability ({spec.name}, {len(models)} seeds, mirror images {', '.join(how.flips)}, input "
          f"scales {', '.join(f'{s:g}' for s in how.scales)}); pooled inside each set's scoring field of view; length "
          f"measured as predict measures it, over the annotation's. On {describe(torch.device('cpu'))}, "
          f"{time.perf_counter() - started:.0f} s in all (`python -m benchmarks.thin_vessels`).\n\n"
          f"The rule, written before the table was read: among the candidates whose F1 on the validation eyes is at "
          f"most {VAL_TOLERANCE} below threshold 0.5's, the one whose length on the validation eyes is nearest the "
          f"annotation's. **It picks {chosen}.**\n")
    columns = ["F1", "sensitivity", "precision", "length / annotation's"]
    for set_name, part in table.groupby("set", sort=False):
        print(f"## {'the validation eyes (DRIVE, 512x512)' if set_name == 'val' else set_name}\n")
        print(markdown_table(["candidate", *columns],
                             [[r.candidate, f"{r.f1:.4f}", f"{r.sensitivity:.3f}", f"{r.precision:.3f}",
                               f"{r.length_ratio:.2f}"] for r in part.itertuples()]))
        print()


if __name__ == "__main__":
    main()
