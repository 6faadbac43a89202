"""Which exact code and parameters produced the results: the md5 of every code file (as DVC records it in dvc.lock),
checked against the dvc.lock entries of the stages whose outputs the report reads."""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CODE_GLOBS = ("retina/**/*.py", "stages/*.py", "dvc.yaml", "params.yaml")


def md5(path: Path) -> str:
    """The md5 of a file, as DVC records it for a file dependency."""
    return hashlib.md5(path.read_bytes()).hexdigest()


@dataclass
class Provenance:
    """The code's fingerprint and how it agrees with what dvc.lock says each stage ran with."""

    files: dict[str, str]  # path -> md5
    fingerprint: str  # sha256 over the sorted "md5  path" lines
    stale: list[str] = field(default_factory=list)  # "stage: path" where dvc.lock records another md5
    lock_found: bool = True


def stage_names(pipeline: dict[str, Any], params: dict[str, Any]) -> set[str]:
    """The stage names DVC generates from dvc.yaml: `name`, or `name@v1-v2` for each combination of a `matrix`
    whose axes are lists or `${key}` references to lists or mappings (their keys) in params."""
    names = set()
    for name, stage in pipeline.get("stages", {}).items():
        if "matrix" not in stage:
            names.add(name)
            continue
        axes = []
        for values in stage["matrix"].values():
            if isinstance(values, str) and values.startswith("${"):
                values = params[values[2:-1]]
            axes.append(list(values))
        names |= {f"{name}@{'-'.join(map(str, combo))}" for combo in itertools.product(*axes)}
    return names


def code_provenance(root: Path = Path("."), lock: Path = Path("dvc.lock"), params: dict[str, Any] | None = None,
                    writing: str = "report") -> Provenance:
    """Fingerprint the code files under `root` and compare them with every file dependency that dvc.lock records
    for the stages of the current dvc.yaml (with `params`, the raw params.yaml), except the stage `writing` this
    (its entry is the previous run's until it finishes). Entries of stages no longer in dvc.yaml are ignored."""
    files = {p.relative_to(root).as_posix(): md5(p) for pattern in CODE_GLOBS for p in sorted(root.glob(pattern))}
    fingerprint = hashlib.sha256("".join(f"{d}  {p}\n" for p, d in sorted(files.items())).encode()).hexdigest()
    if not (root / lock).is_file():
        return Provenance(files, fingerprint, lock_found=False)
    stages = (yaml.safe_load((root / lock).read_text()) or {}).get("stages", {})
    current = stage_names(yaml.safe_load((root / "dvc.yaml").read_text()), params) if params is not None \
        else set(stages)
    stale = [f"{stage}: {dep['path']}" for stage, entry in stages.items() if stage in current - {writing}
             for dep in entry.get("deps", []) if dep["path"] in files and dep.get("md5") != files[dep["path"]]]
    return Provenance(files, fingerprint, stale)


def provenance_summary(prov: Provenance) -> str:
    """One Markdown paragraph naming the code and saying whether every recorded stage ran with it."""
    text = (f"Code: {len(prov.files)} files ({', '.join(CODE_GLOBS)}), fingerprint `{prov.fingerprint[:16]}` "
            "(sha256 of their `md5  path` lines, listed below; these are the md5s DVC records in dvc.lock). ")
    if not prov.lock_found:
        return text + "No dvc.lock was found, so which code the upstream stages ran is not recorded."
    if prov.stale:
        return text + ("**Some outputs came from other code**: dvc.lock records other versions of " +
                       "; ".join(prov.stale[:8]) + (" ..." if len(prov.stale) > 8 else "") + ".")
    return text + "Every stage recorded in dvc.lock ran with exactly these files."


def file_list(prov: Provenance) -> str:
    """The fingerprinted files and their md5s, as a collapsed Markdown block."""
    lines = "\n".join(f"{digest}  {path}" for path, digest in sorted(prov.files.items()))
    return f"<details><summary>code files and md5s</summary>\n\n```\n{lines}\n```\n</details>"
