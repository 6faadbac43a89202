"""Segment vessels in your own fundus photographs with a trained model, and measure the vessel tree.

    retina-predict IMAGE [IMAGE ...] [--model NAME] --out predictions/

The model is params.yaml's `predict.model` (camera_robust: the one that travels best to other cameras) unless
--model names another; its probability is the mean over the training seeds of params.yaml (a seed-to-seed lottery
otherwise: on STARE one seed over-segments), or one seed's with --seed, and over the mirror images and input scales
of `predict.flips` and `predict.scales`; a pixel is vessel above `predict.threshold` (all chosen across cameras:
reports/product_model.md).

For each IMAGE writes, at the photograph's own size: <name>_probability.png (grey, 0-255), <name>_vessels.png
(binary), <name>_overlay.png (vessels in green on the photograph), <name>_measures.json (the vessel tree: length,
density, calibre, junctions, end points, segments, tortuosity, curvature, branching angle, fractal dimension, with
their units; null where undefined; and the optic disc's centre and diameter) and <name>_segments.csv (one row per
vessel segment). Lengths are in pixels of
the photograph and in micrometres / millimetres: from --um-per-pixel, else from the camera's field of view across the
FOV disc (--fov-degrees; params.yaml's morphology.fov_degrees, 45, when not given). "scale" in the JSON says which,
and whether it can be trusted: the widest vessels (the arcades by the optic disc, about as wide in every adult eye)
must measure, at that pixel size, within the training photographs' range ("trusted": false and a flag otherwise:
check --fov-degrees or --um-per-pixel).
"quality" in the JSON (and a warning
in the log) says when to doubt a result: a photograph darker, flatter, blurrier or framed differently than the
training photographs, or with a vessel density outside theirs (ranges from reports/photo_ranges.json).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from retina.cli import number_between, run_main
from retina.config import FOV_DEGREES, UM_PER_PIXEL, load_params, model_spec, run_dir
from retina.predict.predict import predict_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument("--model", help="a model named in params.yaml (default: its predict.model)")
    parser.add_argument("--seed", type=int,
                        help="one training seed's model (default: the mean of all seeds in params.yaml)")
    parser.add_argument("--models", type=Path, default=Path("models"), help="folder of trained models")
    parser.add_argument("--out", type=Path, default=Path("predictions"))
    parser.add_argument("--um-per-pixel", type=number_between(*UM_PER_PIXEL, "pixel size in micrometres"),
                        help="pixel size of the photographs, for measures in micrometres")
    parser.add_argument("--fov-degrees", type=number_between(*FOV_DEGREES, "field of view in degrees"),
                        help="the camera's field of view, which gives the pixel size from the FOV disc's diameter "
                             "(default: params.yaml morphology.fov_degrees; --um-per-pixel overrides it)")
    parser.add_argument("--ranges", type=Path, default=Path("reports/photo_ranges.json"),
                        help="the training photographs' ranges (stage photo_ranges)")
    args = parser.parse_args()
    params = load_params()
    spec = model_spec(params, args.model or params.predict.model)
    seeds = params.training_seeds if args.seed is None else (args.seed,)
    ranges = json.loads(args.ranges.read_text()) if args.ranges.is_file() else None
    checkpoints = [args.models / run_dir(spec.name, seed) / "best.pt" for seed in seeds]
    how = params.predict
    predict_files(args.images, checkpoints, args.out, how.threshold, params.morphology.spur_ratio,
                  args.um_per_pixel, ranges, args.fov_degrees or params.morphology.fov_degrees,
                  params.morphology.um_per_degree, params.morphology.measure_fov_px, how.flips, how.scales)


def cli() -> None:
    """The console script `retina-predict`."""
    run_main(main)


if __name__ == "__main__":
    cli()
