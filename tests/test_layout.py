"""docs/layout.md's table of the library by pipeline step stays true: every module is in it once, and a module imports
only modules of its own step or of the steps listed above it (no import upward)."""
from __future__ import annotations

import ast
import re

from tests.conftest import ROOT


def steps() -> list[tuple[str, list[str]]]:
    """The table's rows, in order: (step, its modules)."""
    text = (ROOT / "docs" / "layout.md").read_text()
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 2 and "`" in cells[1]:
            rows.append((cells[0], re.findall(r"^`(\w+)`|, `(\w+)`", cells[1])))
    return [(step, [a or b for a, b in found]) for step, found in rows]


def direct_imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / "retina" / f"{module}.py").read_text())
    return {node.module.split(".")[1] for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("retina.")}


def test_every_library_module_has_one_step():
    listed = [m for _, modules in steps() for m in modules]
    present = sorted(p.stem for p in (ROOT / "retina").glob("*.py") if p.stem != "__init__")
    assert sorted(listed) == present


def test_no_module_imports_a_later_step():
    level = {m: i for i, (_, modules) in enumerate(steps()) for m in modules}
    names = [step for step, _ in steps()]
    upward = [f"{m} ({names[level[m]]}) imports {d} ({names[level[d]]})"
              for m in level for d in direct_imports(m) if level[d] > level[m]]
    assert not upward, upward
