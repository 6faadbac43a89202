"""Separate the effect of the activation from the effect of the resolution, from DVC experiments.

    dvc exp run -S activation=silu        # SiLU at 512
    dvc exp run -S image_size=256         # ReLU at 256
    python -m stages.experiments [--out reports/experiments.md]

Reads `dvc exp show --json --all-commits` for the baseline's test metrics in the workspace and in each experiment, and each
experiment's per-image scores from its git commit; the study's silu256 model supplies SiLU at 256. Writes a
2x2 table (activation x resolution) of test F1 and AUC inside the field of view, and paired per-image comparisons.
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
from pathlib import Path

import pandas as pd

from stages.atomic import write_text
from stages.cli import run_main
from stages.config import load_params
from stages.errors import PipelineError
from stages.metrics import paired_comparison

PER_IMAGE = "reports/eval/{}/per_image.csv"


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if result.returncode:
        raise PipelineError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def experiment_revisions() -> list[dict]:
    """[{name, rev, params}] for the workspace's commit and every experiment based on it."""
    result = subprocess.run(["dvc", "exp", "show", "--json", "--all-commits"], capture_output=True, text=True)
    if result.returncode:
        raise PipelineError(f"dvc exp show: {result.stderr.strip()}")
    found = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "params" in data and node.get("rev") not in (None, "workspace"):
                params = data["params"].get("params.yaml", {}).get("data", {})
                found.append({"name": node.get("name") or node["rev"][:7], "rev": node["rev"], "params": params})
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(json.loads(result.stdout))
    return found


def per_image(rev: str, model: str) -> pd.DataFrame:
    """A model's per-image test scores as committed at `rev`."""
    return pd.read_csv(io.StringIO(_git("show", f"{rev}:{PER_IMAGE.format(model)}")))


def build(out: Path) -> str:
    """Collect the four activation x resolution cells and write the comparison."""
    params = load_params()
    head = _git("rev-parse", "HEAD").strip()
    base = params.models["baseline"]
    cells: dict[tuple[str, int], tuple[str, pd.DataFrame]] = {
        (base.activation, base.image_size): (f"baseline @ {head[:7]}", per_image(head, "baseline")),
    }
    silu = params.models.get("silu256")
    if silu and silu.attention == "none":
        cells[(silu.activation, silu.image_size)] = (f"silu256 @ {head[:7]}", per_image(head, "silu256"))
    for exp in experiment_revisions():
        if exp["rev"] == head:
            continue
        p = exp["params"]
        if p.get("attention", "none") != "none" or p.get("model") != params.raw["model"] \
                or p.get("train") != params.raw["train"] or p.get("seed") != params.seed:
            continue  # only experiments that change the baseline's activation or size and nothing else
        key = (p.get("activation"), p.get("image_size"))
        if key not in cells:
            try:
                cells[key] = (f"experiment {exp['name']} (baseline)", per_image(exp["rev"], "baseline"))
            except PipelineError:
                continue
    rows = [[f"{act} @ {size}", source, f"{df['fov_f1'].mean():.4f}", f"{df['fov_auc_roc'].mean():.4f}"]
            for (act, size), (source, df) in sorted(cells.items(), key=lambda kv: (kv[0][0], -kv[0][1]))]
    lines = ["# Activation vs resolution", "",
             "The study changed the activation (ReLU -> SiLU) and the input size (512 -> 256) at once. These runs "
             "separate the two: same width, depth, training settings and seed; only the named setting differs. "
             "Mean of per-image scores on the 20 test images, scored at 512x512 inside the field of view.", "",
             "| model | from | F1 (FOV) | AUC-ROC (FOV) |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "Paired per-image comparisons (second minus first; 95% bootstrap CI; Wilcoxon signed-rank):", "",
              "| effect | held fixed | F1 difference | 95% CI | second better on | p |", "|---|---|---|---|---|---|"]
    sizes = sorted({size for _, size in cells}, reverse=True)
    pairs = [(("relu", size), ("silu", size), "activation ReLU -> SiLU", f"size {size}") for size in sizes]
    pairs += [((act, sizes[0]), (act, sizes[-1]), f"resolution {sizes[0]} -> {sizes[-1]}", act)
              for act in ("relu", "silu") if len(sizes) > 1]
    for first, second, effect, fixed in pairs:
        if first in cells and second in cells:
            c = paired_comparison(cells[first][1]["fov_f1"].to_numpy(), cells[second][1]["fov_f1"].to_numpy(),
                                  params.bootstrap, params.seed)
            lines.append(f"| {effect} | {fixed} | {c['mean_diff']:+.4f} | [{c['ci_low']:+.4f}, {c['ci_high']:+.4f}]"
                         f" | {c['b_wins']}/{c['n']} | {c['p_wilcoxon']:.3g} |")
        else:
            lines.append(f"| {effect} | {fixed} | not run | | | |")
    text = "\n".join(lines) + "\n"
    write_text(out, text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/experiments.md"))
    print(build(parser.parse_args().out))


if __name__ == "__main__":
    run_main(main)
