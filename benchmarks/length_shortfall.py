"""Where the predicted vessel length goes missing: the annotation's centreline, split by the annotated calibre, and
how much of each class lies inside the predicted mask; and what the spur pruning removes from each side.

    python -m benchmarks.length_shortfall [--model camera_robust]

On the 20 test images at 512x512 inside the field of view, with the seed-averaged probabilities stored by the
evaluate stage (data/predictions). The annotation's skeleton pixels are classed by the annotated calibre there
(2 x distance transform); a skeleton pixel is found when the predicted mask covers it. Centreline pixels count as
length here (no spline): the shares, not the absolute lengths, are the point.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import thin

from retina.config import load_params, run_dir
from retina.data.arrays import load_array, load_arrays, processed_dir
from retina.data.dataset import NATIVE_SIZE
from retina.measure.morphology import vessel_measures
from retina.metrics import dequantise
from retina.summary import markdown_table

CLASSES = ((2, 2.5), (2.5, 5), (5, 100))  # annotated calibre (2 x distance transform), px at 512x512 (~27 µm a pixel):
#                                            2 is a vessel one or two pixels wide, the thinnest annotated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a model of params.yaml (default: its predict.model)")
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    parser.add_argument("--predictions", type=Path, default=Path("data/predictions"))
    args = parser.parse_args()
    params = load_params()
    name = args.model or params.predict.model
    truth = load_arrays(processed_dir(args.data, NATIVE_SIZE) / "test")
    prob = np.mean([dequantise(load_array(args.predictions / f"{run_dir(name, s)}.npy"))
                    for s in params.training_seeds], axis=0)
    totals = np.zeros((len(CLASSES), 2))
    pruned = {"annotation": [0.0, 0.0], "prediction": [0.0, 0.0]}
    for p, t, f in zip(prob, truth.masks.astype(bool), truth.fov.astype(bool)):
        annotated, found = t & f, (p > params.threshold) & f
        skeleton = thin(annotated)
        calibre = 2 * ndi.distance_transform_edt(annotated)[skeleton]
        covered = found[skeleton]
        for k, (low, high) in enumerate(CLASSES):
            inside = (calibre >= low) & (calibre < high)
            totals[k] += inside.sum(), (inside & covered).sum()
        for side, mask in (("annotation", annotated), ("prediction", found)):
            kept = vessel_measures(mask, f, params.morphology.spur_ratio).summary["length"]
            unpruned = vessel_measures(mask, f, 0.0).summary["length"]
            pruned[side][0] += kept
            pruned[side][1] += unpruned
    labels = ["1-2 px wide (calibre 2)", "about 3-4 px (calibre 2.5-5)", "wider (calibre 5 and up)"]
    rows = [[label, f"{n / totals[:, 0].sum():.1%}", f"{hit / n:.1%}",
             f"{(n - hit) / (totals[:, 0] - totals[:, 1]).sum():.1%}"] for label, (n, hit) in zip(labels, totals)]
    print(f"# Where `{name}`'s vessel length goes missing (DRIVE test, 512x512, seeds averaged)\n")
    print(markdown_table(["annotated vessel", "share of the annotated centreline", "of it inside the predicted mask",
                          "share of all that is missed"], rows))
    print(f"\nCentreline inside the predicted mask: {totals[:, 1].sum() / totals[:, 0].sum():.1%} of the annotation's.")
    for side, (kept, unpruned) in pruned.items():
        print(f"Spur pruning (spur_ratio {params.morphology.spur_ratio:g}) removes {1 - kept / unpruned:.1%} of the "
              f"{side}'s length ({unpruned:.0f} -> {kept:.0f} px over the 20 images).")
    print(f"Predicted length over annotated, both pruned: {pruned['prediction'][0] / pruned['annotation'][0]:.2f}; "
          f"unpruned: {pruned['prediction'][1] / pruned['annotation'][1]:.2f}.")


if __name__ == "__main__":
    main()
