"""`dvc plots diff` pages that draw every chart with the network blocked, checked in a real headless Chromium."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dvc_render.html import PAGE_HTML

from retina.errors import DataError
from retina.report.offline_plots import LIBRARIES, PLACEHOLDERS, build_template
from tests.conftest import ROOT, unavailable

NODE_MODULES = ROOT / "node_modules"
ARTIFACTS = ROOT / "test-artifacts"  # git ignores it: screenshots to look at after a run
needs_libraries = pytest.mark.skipif(not (NODE_MODULES / "vega").is_dir(),
                                     reason="node_modules/ is missing: run `npm ci` in the project root")


def _browser(profile: Path) -> list[str]:
    """Headless Chromium in a fresh network namespace (no network at all), or skip where that is not possible."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        unavailable("chromium", "Chromium is not installed (Debian: apt-get install chromium)")
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here (needs root or user namespaces)")
    return ["unshare", "-n", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--virtual-time-budget=30000"]


def _plots_diff(template: Path, out: Path) -> Path:
    command = [sys.executable, "-m", "dvc", "plots", "diff", "HEAD", "-o", str(out), "--html-template", str(template)]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out / "index.html"


def _drawn_marks(dom: str, chart: str) -> int:
    """Marks with geometry (an SVG path with a `d`) inside one chart's <div id=...>, up to the next chart."""
    part = dom.split(f'<div id="{chart}"', 1)[1].split("<div id=", 1)[0]
    return len(re.findall(r'<path[^>]* d="M', part))


def test_template_refuses_a_missing_library(tmp_path):
    with pytest.raises(DataError, match="vega.min.js: missing; install the plotting libraries with `npm ci`"):
        build_template(tmp_path / "node_modules")


@needs_libraries
def test_template_inlines_the_pinned_libraries_and_keeps_dvc_placeholders():
    page = build_template(NODE_MODULES)
    assert "{plot_divs}" in page and "{refresh_tag}" in page and "{scripts}" not in page  # no CDN scripts
    assert "<script src" not in page  # nothing loaded from elsewhere
    for package, build in LIBRARIES:
        assert (NODE_MODULES / package / build).read_text(encoding="utf-8") in page
    assert all(page.count(p) == 1 for p in PLACEHOLDERS if p != "{scripts}")


@needs_libraries
def test_plots_diff_draws_every_chart_with_the_network_blocked(tmp_path):
    browser = _browser(tmp_path / "profile")
    template = tmp_path / "offline.html"
    template.write_text(build_template(NODE_MODULES))
    page = _plots_diff(template, tmp_path / "offline")
    charts = re.findall(r"vegaEmbed\('#([^']+)'", page.read_text())
    assert len(charts) >= 8, "expected ROC, precision-recall and two training curves per model"
    dom = subprocess.run(browser + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert f'data-vega-drawn="{len(charts)}"' in dom and "data-vega-failed" not in dom
    for chart in charts:
        assert _drawn_marks(dom, chart) > 0, f"chart {chart} has no drawn marks"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "plots_diff_offline.png"
    subprocess.run(browser + ["--window-size=1400,3200", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.stat().st_size > 50_000

    # the control: DVC's default page, which loads the libraries from a CDN, draws nothing without a network
    cdn = tmp_path / "cdn.html"
    cdn.write_text(PAGE_HTML)
    default = _plots_diff(cdn, tmp_path / "default")
    assert "cdn.jsdelivr.net/npm/vega@" in default.read_text()
    dom = subprocess.run(browser + ["--dump-dom", default.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert "role-mark" not in dom and "<canvas" not in dom
