"""Does a photograph tell predict at what scale to segment it? The calibre of its widest vessels, over its field of
view's diameter, against the training photographs'.

    python -m benchmarks.vessel_scale [--model camera_robust] [--sets stare les_av drhagis] > reports/vessel_scale.md

Predict frames every photograph so that its field of view spans the same share of the model's input. A camera with a
narrower field of view (30° against DRIVE's 45°) shows the same vessels 1.5 times wider within that frame; so may an
eye or a framing. The estimate: segment once as predict does, take the 90th percentile of the calibre (2 x distance
transform) along the skeleton of the vessels found, over the diameter of the field of view (`widest_calibre`,
retina/measure/vessel_scale.py);
DRIVE's validation eyes give the reference. Scale s = reference / the photograph's: segment again with the input's side
s x the model's (rounded to 16 px, within SIDES), so that the widest vessels reach the network as wide as in training.

The rule, fixed before any figure was read: adopt the estimated scale in predict if the pooled F1, seeds averaged,
rises on the mean of the dev sets (params.yaml other_cameras other than DRIVE) and DRIVE's validation F1 falls by no
more than 0.005. The fixed sides 0.67x, 0.8x and 1.25x are the context: which scale each set would have wanted.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from retina.config import load_params, model_spec, run_dir
from retina.data.arrays import load_arrays, processed_dir
from retina.data.images import resize_image
from retina.data.model_input import resize_probabilities
from retina.evaluate.labelled_sets import read_labelled_set
from retina.machine import describe
from retina.measure.vessel_scale import widest_calibre
from retina.metrics import all_scores, confusion, threshold_scores
from retina.predict.predict import predict_photograph
from retina.summary import markdown_table
from retina.train.batched_prediction import predict_proba
from retina.train.checkpoint import load_checkpoint
from retina.train.device import select_device

SIDES = (256, 768)  # the input sides the estimated scale may choose between
FIXED = (0.67, 0.8, 1.25)  # fixed scales, for context


def side_for(scale: float, side: int) -> int:
    """The model's input side at `scale` times its own, a multiple of 16 within SIDES."""
    return int(np.clip(round(side * scale / 16) * 16, *SIDES))


def _pooled_f1(probs: list[np.ndarray], truth: list[np.ndarray], fovs: list[np.ndarray], threshold: float) -> float:
    return all_scores(np.concatenate([p[f] for p, f in zip(probs, fovs)]),
                      np.concatenate([t[f] for t, f in zip(truth, fovs)]), threshold)["f1"]


def validation(models, spec, data_root: Path, threshold: float, device) -> tuple[float, dict[str, float]]:
    """DRIVE's validation eyes as the model sees them: the reference relative calibre (median over the images) and
    F1 inside the FOV at each scale (the input resized, the output resized back), the estimated one included."""
    val = load_arrays(processed_dir(data_root, spec.image_size, spec.input) / "val")
    fov, truth = list(val.fov.astype(bool)), list(val.masks.astype(bool))

    def at(images: np.ndarray, side: int) -> np.ndarray:
        if side != spec.image_size:
            images = np.stack([np.round(resize_image(x, side) * 255).astype(np.uint8) for x in images])
        prob = np.mean([predict_proba(m, images, device, bf16=False) for m in models], axis=0)
        return resize_probabilities(prob, spec.image_size)

    first = at(val.images, spec.image_size)
    calibres = [widest_calibre(p, f, threshold) for p, f in zip(first, fov)]
    reference = float(np.nanmedian(calibres))
    f1 = {"1.0": _pooled_f1(list(first), truth, fov, threshold)}
    for scale in FIXED:
        f1[f"{scale:g}"] = _pooled_f1(list(at(val.images, side_for(scale, spec.image_size))), truth, fov, threshold)
    estimated = [at(x[None], side_for(reference / c, spec.image_size))[0] for x, c in zip(val.images, calibres)]
    f1["estimated"] = _pooled_f1(estimated, truth, fov, threshold)
    return reference, f1


def camera_set(models, spec, root: Path, reference: float, threshold: float) -> tuple[dict[str, float], list[float]]:
    """Pooled F1 (seeds averaged) of a labelled set at predict's scale, the fixed scales and the estimated one; and
    the estimated scale of each photograph."""
    data = read_labelled_set(root)
    counts: dict[str, np.ndarray] = {}
    scales = []
    for i, image in enumerate(data.images):
        first = predict_photograph(models, spec, image, threshold)
        scale = reference / widest_calibre(first.probability, first.fov, threshold)
        scales.append(scale)
        region = data.fov[i] if data.fov is not None else first.fov
        for key, at in [("1.0", None), *((f"{s:g}", s) for s in FIXED), ("estimated", scale)]:
            prob = first.probability if at is None else predict_photograph(
                models, dataclasses.replace(spec, image_size=side_for(at, spec.image_size)), image, threshold,
                fov=first.fov).probability
            counts[key] = counts.get(key, 0) + np.array(confusion(prob > threshold, data.reference[i], region))
    return {k: threshold_scores(*c)["f1"] for k, c in counts.items()}, scales


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a model of params.yaml (default: its predict.model)")
    parser.add_argument("--sets", nargs="+", help="names of params.yaml other_cameras (default: all but drive)")
    parser.add_argument("--data", type=Path, default=Path("data/processed"))
    args = parser.parse_args()
    params = load_params()
    spec = model_spec(params, args.model or params.predict.model)
    device = select_device("cpu")
    models = [load_checkpoint(Path("models") / run_dir(spec.name, s) / "best.pt")[0] for s in params.training_seeds]
    start = time.perf_counter()
    reference, val_f1 = validation(models, spec, args.data, params.threshold, device)
    rows, columns = [["DRIVE validation eyes", "1.00", *(f"{val_f1[k]:.4f}" for k in val_f1)]], list(val_f1)
    names = args.sets or [n for n in params.other_cameras if n != "drive"]
    for name in names:
        camera = params.other_cameras[name]
        f1, scales = camera_set(models, spec, camera.path, reference, params.threshold)
        rows.append([f"{name} ({camera.fov_degrees:g}°)", f"{np.median(scales):.2f} [{min(scales):.2f}, {max(scales):.2f}]",
                     *(f"{f1[k]:.4f}" for k in columns)])
    print(f"# Segmenting at the scale the photograph's vessels give\n\n`{spec.name}`, its {len(models)} seeds' "
          f"probabilities averaged, F1 pooled inside each set's field-of-view masks. Reference widest calibre "
          f"(DRIVE validation eyes, median): {reference:.4f}. Estimated scale: median [range] over the photographs. "
          f"Input side at scale s: 16 x round({spec.image_size} s / 16), within {SIDES[0]}-{SIDES[1]}. "
          f"{describe(device)}, {time.perf_counter() - start:.0f} s.\n")
    print(markdown_table(["set", "estimated scale", *(f"F1 at {k}" for k in columns)], rows))


if __name__ == "__main__":
    main()
