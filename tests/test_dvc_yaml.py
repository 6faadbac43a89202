"""dvc.yaml stays exact: each stage depends on precisely the code its command imports, and the plots cover every
model and seed of params.yaml (DVC cannot template the top-level plots)."""
from __future__ import annotations

import ast

import yaml

from retina.config import load_params
from tests.conftest import ROOT

DVC = yaml.safe_load((ROOT / "dvc.yaml").read_text())


def imported_files(module: str) -> set[str]:
    """The project files a module imports, transitively (retina.* and stages.*), as paths."""
    seen, todo = set(), [module]
    while todo:
        path = todo.pop().replace(".", "/") + ".py"
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("retina", "stages"):
                todo.append(node.module)
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.split(".")[0] in ("retina", "stages")]
    return {p for p in seen if not p.endswith("__init__.py")}


def test_every_stage_depends_on_exactly_the_code_it_imports():
    for name, stage in DVC["stages"].items():
        module = stage["cmd"].split()[2]  # python -m stages.<name> ...
        code = {d for d in stage["deps"] if d.endswith(".py")}
        assert code == imported_files(module), f"stage {name}: deps differ from the imports of {module}"


def test_library_never_imports_a_command():
    paths = sorted((ROOT / "retina").rglob("*.py"))
    assert len(paths) > 30
    for path in paths:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        assert not any(p.startswith("stages/") for p in imported_files(module)), path


def test_commands_are_thin():
    for path in sorted((ROOT / "stages").glob("*.py")):
        assert len(path.read_text().splitlines()) <= 80, f"{path} is not a thin command"


def test_plots_cover_every_model_and_seed():
    params = load_params(ROOT / "params.yaml")
    declared = yaml.safe_dump(DVC["plots"])
    for model in params.models:
        assert f"reports/eval/{model}/roc.csv" in declared and f"reports/eval/{model}/pr.csv" in declared
        for seed in params.seeds:
            for log in ("val/dice.tsv", "train/loss.tsv"):
                assert f"reports/train/{model}/seed{seed}/plots/metrics/{log}" in declared
