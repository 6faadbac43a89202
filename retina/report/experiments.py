"""Separate the effect of the activation from the effect of the resolution, from DVC experiments on the baseline.

The study changed ReLU -> SiLU and 512 -> 256 at once; `dvc exp run -S activation=silu` (SiLU at 512) and
`dvc exp run -S image_size=256` (ReLU at 256) fill the other two cells of the 2x2 table.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from retina.atomic import write_text
from retina.config import Params, parse_params
from retina.pipeline.dvc_experiments import csv_at, experiments, git, read_at
from retina.errors import PipelineError
from retina.metrics import paired_comparison

PER_IMAGE = "reports/eval/{}/per_image.csv"  # per-image scores of a model's seed-averaged probabilities


def _per_image(rev: str, model: str) -> pd.DataFrame:
    return csv_at(rev, PER_IMAGE.format(model), index_col="image")


def committed_params() -> Params:
    """params.yaml as committed at HEAD: what the committed models were trained with (the work tree may hold an
    experiment that `dvc exp run` applied)."""
    return parse_params(yaml.safe_load(read_at("HEAD", "params.yaml")))


def collect_cells(params: Params) -> dict[tuple[str, int], tuple[str, pd.DataFrame]]:
    """{(activation, size): (where from, per-image scores)} from HEAD's models and the baseline experiments."""
    head = git("rev-parse", "HEAD").strip()
    base = params.models["baseline"]
    cells = {(base.activation, base.image_size): (f"baseline @ {head[:7]}", _per_image(head, "baseline"))}
    silu = params.models.get("silu256")
    if silu and silu.attention == "none":
        cells[(silu.activation, silu.image_size)] = (f"silu256 @ {head[:7]}", _per_image(head, "silu256"))
    for exp in experiments():
        p = exp["params"]
        if exp["rev"] == head or p.get("attention", "none") != "none" or p.get("model") != params.raw["model"] \
                or p.get("train") != params.raw["train"] or p.get("seeds") != params.raw["seeds"]:
            continue  # only experiments that change the baseline's activation or size and nothing else
        key = (p.get("activation"), p.get("image_size"))
        if key not in cells:
            try:
                cells[key] = (f"experiment {exp['name']} (baseline)", _per_image(exp["rev"], "baseline"))
            except PipelineError:
                continue
    return cells


def write_ablation(params: Params, out: Path) -> str:
    """Write the activation x resolution table and its paired comparisons to `out`; return the text."""
    cells = collect_cells(params)
    n_images = max((len(df) for _, df in cells.values()), default=0)
    rows = [f"| {act} @ {size} | {source} | {df['fov_f1'].mean():.4f} | {df['fov_auc_roc'].mean():.4f} |"
            for (act, size), (source, df) in sorted(cells.items(), key=lambda kv: (kv[0][0], -kv[0][1]))]
    lines = ["# Activation vs resolution", "",
             "The study changed the activation (ReLU -> SiLU) and the input size (512 -> 256) at once. These runs "
             "separate the two: same width, depth, training settings and seeds; only the named setting differs. "
             "Mean of per-image scores of the seed-averaged probabilities "
             f"({len(params.seeds)} seeds) on the {n_images} test images, scored at 512x512 inside the field of "
             "view.", "",
             "| model | from | F1 (FOV) | AUC-ROC (FOV) |", "|---|---|---|---|", *rows, "",
             "Paired per-image comparisons (second minus first, paired by image id; 95% bootstrap CI; Wilcoxon "
             "signed-rank):", "",
             "| effect | held fixed | F1 difference | 95% CI | second better on | p |", "|---|---|---|---|---|---|"]
    sizes = sorted({size for _, size in cells}, reverse=True)
    pairs = [(("relu", size), ("silu", size), "activation ReLU -> SiLU", f"size {size}") for size in sizes]
    pairs += [((act, sizes[0]), (act, sizes[-1]), f"resolution {sizes[0]} -> {sizes[-1]}", act)
              for act in ("relu", "silu") if len(sizes) > 1]
    for first, second, effect, fixed in pairs:
        if first in cells and second in cells:
            c = paired_comparison(cells[first][1]["fov_f1"], cells[second][1]["fov_f1"], params.bootstrap,
                                  params.seed)
            lines.append(f"| {effect} | {fixed} | {c['mean_diff']:+.4f} | [{c['ci_low']:+.4f}, {c['ci_high']:+.4f}]"
                         f" | {c['b_wins']}/{c['n']} | {c['p_wilcoxon']:.3g} |")
        else:
            lines.append(f"| {effect} | {fixed} | not run | | | |")
    text = "\n".join(lines) + "\n"
    write_text(out, text)
    return text
