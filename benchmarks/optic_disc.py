"""Where the optic disc finder (retina/measure/optic_disc.py) puts the disc on every labelled camera set, and how wide.

    python -m benchmarks.optic_disc --out /tmp/disc > reports/optic_disc.md

No set here has the disc annotated, so two checks stand in, both fixed before the table was read:
- size: the disc's diameter in degrees of visual angle (the set's field of view in params.yaml across its FOV disc)
  should fall within PLAUSIBLE_DEGREES, a margin around the adult eye's 5-6.5 degrees (refraction, tilt and the
  camera's nominal angle move it);
- place: the annotators' vessel density inside the disc found, over the whole field of view's, should be at least
  CONVERGENCE (the main vessels converge at the disc; a disc put on bright background or a lesion has about the field's
  density or less). <out>/montage.png shows every photograph with its disc, for a look by eye.
The vessels the finder is helped by are the product model's (params.yaml predict.model), its first training seed, one
pass: a cheaper version of what predict gives it.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from retina.config import load_params, model_spec, run_dir
from retina.evaluate.labelled_sets import read_labelled_set
from retina.machine import describe
from retina.measure.optic_disc import find_optic_disc
from retina.predict.predict import predict_photograph
from retina.data.model_input import photograph_fov
from retina.summary import markdown_table
from retina.train.checkpoint import load_checkpoint

PLAUSIBLE_DEGREES = (4.0, 8.0)
CONVERGENCE = 1.5
THUMB = 192  # px, the longer side of each montage tile


def _disc_mask(shape: tuple[int, int], row: float, col: float, diameter: float) -> np.ndarray:
    rows, cols = np.indices(shape)
    return np.hypot(rows - row, cols - col) <= diameter / 2


def _tile(image: np.ndarray, disc, label: str) -> Image.Image:
    k = THUMB / max(image.shape[:2])
    tile = Image.fromarray(image).resize((round(image.shape[1] * k), round(image.shape[0] * k)))
    draw = ImageDraw.Draw(tile)
    if disc is not None:
        r, c, d = disc.row * k, disc.col * k, disc.diameter * k / 2
        draw.ellipse([c - d, r - d, c + d, r + d], outline=(0, 255, 0), width=2)
    draw.text((3, 3), label, fill=(255, 255, 0))
    return tile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for montage.png")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    params = load_params()
    model, spec, _ = load_checkpoint(Path("models") / run_dir(params.predict.model, params.training_seeds[0])
                                     / "best.pt")
    rows, tiles, seconds = [], [], []
    for name, camera in params.other_cameras.items():
        if not camera.path.is_dir():
            continue
        data = read_labelled_set(camera.path)
        degrees, converging = [], []
        for stem, image, truth in zip(data.names, data.images, data.reference):
            fov = photograph_fov(image)
            vessels = predict_photograph([model], spec, image, 0.5, fov=fov).probability
            start = time.perf_counter()
            disc = find_optic_disc(image, fov, vessels)
            seconds.append(time.perf_counter() - start)
            if disc is None:
                degrees.append(math.nan)
                converging.append(math.nan)
                tiles.append(_tile(image, None, f"{name} {stem}: none"))
                continue
            inside = _disc_mask(fov.shape, disc.row, disc.col, disc.diameter) & fov
            density = truth[inside].mean() / truth[fov].mean() if inside.any() else math.nan
            degrees.append(disc.degrees(fov, camera.fov_degrees))
            converging.append(density)
            tiles.append(_tile(image, disc, f"{name} {stem}: {degrees[-1]:.1f} deg, x{density:.1f}"))
        deg, conv = np.array(degrees), np.array(converging)
        rows.append([name, f"{camera.fov_degrees:g}°", len(deg), f"{np.nanmedian(deg):.2f}",
                     f"{np.nanpercentile(deg, 10):.2f} to {np.nanpercentile(deg, 90):.2f}",
                     f"{np.mean((deg >= PLAUSIBLE_DEGREES[0]) & (deg <= PLAUSIBLE_DEGREES[1])):.2f}",
                     f"{np.nanmedian(conv):.2f}", f"{np.mean(conv >= CONVERGENCE):.2f}"])
        print(f"{name}: {len(deg)} photographs", file=sys.stderr, flush=True)
    columns = 8
    width = THUMB * columns
    height = THUMB * math.ceil(len(tiles) / columns)
    montage = Image.new("RGB", (width, height))
    for i, tile in enumerate(tiles):
        montage.paste(tile, ((i % columns) * THUMB, (i // columns) * THUMB))
    montage.save(args.out / "montage.png")
    print(f"# The optic disc found on each camera set\n\nOn {describe(torch.device('cpu'))}; "
          f"{np.median(seconds):.2f} s a photograph (median), vessels given. The checks, fixed before any table was "
          f"read: a diameter within {PLAUSIBLE_DEGREES[0]:g}-{PLAUSIBLE_DEGREES[1]:g}° at the set's field of view, "
          f"and the annotated vessel density inside the disc at least {CONVERGENCE:g} times the field's "
          f"(benchmarks/optic_disc.py says why). These sets are also where the finder's constants were chosen "
          f"(retina/measure/optic_disc.py): the table is a development figure, not an independent test.\n")
    within = f"share within {PLAUSIBLE_DEGREES[0]:g}-{PLAUSIBLE_DEGREES[1]:g}°"
    print(markdown_table(["set", "field of view", "photographs", "diameter, degrees (median)",
                          "10th to 90th percentile", within,
                          "vessel density in the disc / field's (median)", f"share at least {CONVERGENCE:g}"], rows))


if __name__ == "__main__":
    main()
