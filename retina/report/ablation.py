"""Separate the effect of the activation from the effect of the resolution, from DVC experiments on the baseline.

The study changed ReLU -> SiLU and 512 -> 256 at once; `dvc exp run -S activation=silu` (SiLU at 512) and
`dvc exp run -S image_size=256` (ReLU at 256) fill the other two cells of the 2x2 table.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from retina.atomic import write_text
from retina.config import Params, parse_params
from retina.dvc_tools.dvc_experiments import csv_at, experiments, git, json_at, read_at
from retina.errors import PipelineError
from retina.evaluate.claims import ALPHA, CONTRADICTED, HOLDS, comparison_claim
from retina.evaluate.statistics import seed_differences
from retina.metrics import paired_comparison
from retina.summary import markdown_table, mean_pm

PER_IMAGE = "reports/eval/{}/per_image.csv"  # per-image scores of a model's seed-averaged probabilities
SEED_PER_IMAGE = "reports/eval/{}/seed{}/per_image.csv"  # per-image scores of one seed's probabilities
RUN_INFO = "reports/train/{}/seed{}/run.json"  # a training run's record, with the machine it ran on
VERDICTS = {HOLDS: "better", CONTRADICTED: "worse"}  # the report's rule, read as "is the second better?"


@dataclass(frozen=True)
class Cell:
    """One (activation, size) cell: where it comes from, its training epochs, its seed-averaged per-image scores,
    each seed's, and the machines its runs trained on."""

    source: str
    epochs: int
    scores: pd.DataFrame
    seeds: list[pd.DataFrame]
    machines: list[str]


def _cell(source: str, epochs: int, rev: str, model: str, seeds: list[int]) -> Cell:
    scores = csv_at(rev, PER_IMAGE.format(model), index_col="image")
    try:
        per_seed = [csv_at(rev, SEED_PER_IMAGE.format(model, s), index_col="image") for s in seeds]
    except PipelineError:
        per_seed = []  # a revision from before per-seed scores were kept
    return Cell(source, epochs, scores, per_seed, sorted({_machine(rev, model, s) for s in seeds}))


def _machine(rev: str, model: str, seed: int) -> str:
    """The CPU (or GPU) a run trained on, from its training record at `rev`."""
    try:
        return json_at(rev, RUN_INFO.format(model, seed)).get("machine", "not recorded")
    except PipelineError:
        return "not recorded"


def committed_params() -> Params:
    """params.yaml as committed at HEAD: what the committed models were trained with (the work tree may hold an
    experiment that `dvc exp run` applied)."""
    return parse_params(yaml.safe_load(read_at("HEAD", "params.yaml")))


def collect_cells(params: Params) -> dict[tuple[str, int], Cell]:
    """{(activation, size): cell} from HEAD's models and the baseline experiments."""
    head = git("rev-parse", "HEAD").strip()
    base = params.models["baseline"]
    seeds = list(params.training_seeds)
    cells = {(base.activation, base.image_size):
             _cell(f"baseline @ {head[:7]}", params.epochs_of("baseline"), head, "baseline", seeds)}
    silu = params.models.get("silu256")
    if silu and silu.attention == "none":
        cells[(silu.activation, silu.image_size)] = \
            _cell(f"silu256 @ {head[:7]}", params.epochs_of("silu256"), head, "silu256", seeds)
    for exp in experiments():
        p = exp["params"]
        if exp["rev"] == head or p.get("attention", "none") != "none" or p.get("model") != params.raw["model"] \
                or p.get("train") != params.raw["train"] or p.get("training_seeds") != params.raw["training_seeds"]:
            continue  # only experiments that change the baseline's activation or size and nothing else
        key = (p.get("activation"), p.get("image_size"))
        if key not in cells:
            try:
                cells[key] = _cell(f"experiment {exp['name']} (baseline)", p["train"]["default_epochs"], exp["rev"],
                                    "baseline", seeds)
            except PipelineError:
                continue
    return cells


def _seed_f1(cell: Cell) -> str:
    f1 = pd.Series([df["fov_f1"].mean() for df in cell.seeds])
    if len(f1) < 2:
        return f"{f1.iloc[0]:.4f} (one seed)" if len(f1) else "not kept"
    return mean_pm(f1)


def write_ablation(params: Params, out: Path) -> str:
    """Write the activation x resolution table and its paired comparisons to `out`; return the text."""
    cells = collect_cells(params)
    n_images = max((len(c.scores) for c in cells.values()), default=0)
    rows = [[f"{act} @ {size}", c.source, c.epochs, f"{c.scores['fov_f1'].mean():.4f}", _seed_f1(c),
             f"{c.scores['fov_auc_roc'].mean():.4f}", "; ".join(c.machines)]
            for (act, size), c in sorted(cells.items(), key=lambda kv: (kv[0][0], -kv[0][1]))]
    lines = ["# Activation vs resolution", "",
             "The study changed the activation (ReLU -> SiLU) and the input size (512 -> 256) at once. These runs "
             "separate the two: same width, depth, training settings and seeds; only the named setting differs, and the "
             "epochs where a model sets its own. Each cell names the CPU its runs trained on: a seed trained on two "
             "CPUs need not give the same weights (their bf16 kernels differ), which adds to the noise between cells. "
             "Mean of per-image scores on the "
             f"{n_images} test images, scored at 512x512 inside the field of view: of the seed-averaged "
             f"probabilities ({len(params.training_seeds)} seeds), and of each seed's own (mean ± sd over seeds).", "",
             markdown_table(["model", "from", "epochs", "F1 (FOV), seed-averaged", "F1 (FOV), per seed",
                             "AUC-ROC (FOV)", "trained on"], rows), "",
             "Paired per-image comparisons (second minus first, paired by image id, on the seed-averaged "
             "probabilities: 95% bootstrap CI, Wilcoxon signed-rank), the same difference within each seed (seed k "
             "against seed k), and the verdict by the report's rule: *better* when every seed and the pooled test "
             f"(p < {ALPHA}, CI excluding 0) show the second better, *worse* when all show it worse, *not shown* "
             "otherwise.", "",
             ]
    effects = []
    sizes = sorted({size for _, size in cells}, reverse=True)
    pairs = [(("relu", size), ("silu", size), "activation ReLU -> SiLU", f"size {size}") for size in sizes]
    pairs += [((act, sizes[0]), (act, sizes[-1]), f"resolution {sizes[0]} -> {sizes[-1]}", act)
              for act in ("relu", "silu") if len(sizes) > 1]
    for first, second, effect, fixed in pairs:
        if first in cells and second in cells:
            a, b = cells[first], cells[second]
            c = paired_comparison(a.scores["fov_f1"], b.scores["fov_f1"], params.bootstrap, params.bootstrap_seed)
            per_seed = seed_differences(a.seeds, b.seeds, "fov_f1") if len(a.seeds) == len(b.seeds) else []
            judged = comparison_claim(effect, per_seed, c).verdict if per_seed else "no per-seed scores"
            judged = VERDICTS.get(judged, judged)
            effects.append([effect, fixed, f"{c['mean_diff']:+.4f}", f"[{c['ci_low']:+.4f}, {c['ci_high']:+.4f}]",
                            f"{c['b_wins']}/{c['n']}", f"{c['p_wilcoxon']:.3g}",
                            ", ".join(f"{d:+.4f}" for d in per_seed), judged])
        else:
            effects.append([effect, fixed, "not run", "", "", "", "", ""])
    lines.append(markdown_table(["effect", "held fixed", "F1 difference", "95% CI", "second better on", "p", "per seed",
                                 "second is"], effects))
    text = "\n".join(lines) + "\n"
    write_text(out, text)
    return text
