"""dvc.yaml stays exact: each stage depends on precisely the code its command imports (a package folder where it
imports all of the package), and the plots cover every model and seed of params.yaml (DVC cannot template the
top-level plots, and a folder is not a plot source)."""
from __future__ import annotations

import ast
from pathlib import Path

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


def package_modules(folder: str) -> set[str]:
    """The modules of a library package folder (its __init__.py aside), as paths."""
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).glob("*.py") if p.name != "__init__.py"}


def test_every_stage_depends_on_exactly_the_code_it_imports():
    for name, stage in DVC["stages"].items():
        module = stage["cmd"].split()[2]  # python -m stages.<name> ...
        imported = imported_files(module)
        folders = [d for d in stage["deps"] if d.startswith("retina/") and (ROOT / d).is_dir()]
        for folder in folders:  # a folder only where the stage imports all of it: DVC reruns it for any file there
            assert package_modules(folder) <= imported, f"stage {name} depends on all of {folder}, imports part"
        code = {d for d in stage["deps"] if d.endswith(".py")} | {m for f in folders for m in package_modules(f)}
        assert code == imported, f"stage {name}: deps differ from the imports of {module}"
        whole = [f for f in {Path(m).parent.as_posix() for m in imported} if f.startswith("retina/")
                 and package_modules(f) <= imported and f not in folders]
        assert not whole, f"stage {name} imports all of {whole}: depend on the folder"


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
        for seed in params.training_seeds:
            for log in ("val/dice.tsv", "train/loss.tsv"):
                assert f"reports/train/{model}/seed{seed}/plots/metrics/{log}" in declared
