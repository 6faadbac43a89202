"""docs/layout.md's table of the library by pipeline step stays true: every module is in it once, in its step's
package, and a module imports only modules of its own step or of the steps listed above it (no import upward)."""
from __future__ import annotations

import ast
import re

from tests.conftest import ROOT


def steps() -> list[tuple[str, list[str]]]:
    """The table's rows, in order: (step, its modules as dotted names under retina)."""
    text = (ROOT / "docs" / "layout.md").read_text()
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 3 and cells[1].startswith("`retina/"):
            package = cells[1].strip("`").removeprefix("retina/").strip("/").replace("/", ".")
            names = [a or b for a, b in re.findall(r"^`(\w+)`|, `(\w+)`", cells[2])]
            rows.append((cells[0], [f"{package}.{n}" if package else n for n in names]))
    return rows


def library_modules() -> list[str]:
    """Every module of retina/, as a dotted name under retina."""
    return sorted(".".join(p.relative_to(ROOT / "retina").with_suffix("").parts)
                  for p in (ROOT / "retina").rglob("*.py") if p.stem != "__init__")


def direct_imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / "retina" / f"{module.replace('.', '/')}.py").read_text())
    return {node.module.removeprefix("retina.") for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("retina.")}


def test_every_library_module_has_one_step():
    listed = [m for _, modules in steps() for m in modules]
    assert len(steps()) >= 8 and sorted(listed) == library_modules()


def test_no_module_imports_a_later_step():
    level = {m: i for i, (_, modules) in enumerate(steps()) for m in modules}
    names = [step for step, _ in steps()]
    upward = [f"{m} ({names[level[m]]}) imports {d} ({names[level[d]]})"
              for m in level for d in direct_imports(m) if level[d] > level[m]]
    assert not upward, upward
