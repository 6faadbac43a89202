"""An HTML template for `dvc plots show/diff` that draws its charts with no network.

DVC's default page loads vega, vega-lite and vega-embed from a CDN, so offline its charts stay blank. This
template inlines the three libraries, pinned in package.json and installed by `npm ci` from the npm registry, so
the page DVC writes is self-contained: it renders wherever it is opened. It also asks vega-embed for SVG (whose
marks can be checked in the page's DOM) and counts the charts drawn in `data-vega-drawn` on <body>.
"""
from __future__ import annotations

import json
from pathlib import Path

from retina.atomic import write_text
from retina.errors import DataError

LIBRARIES = (("vega", "build/vega.min.js"), ("vega-lite", "build/vega-lite.min.js"),
             ("vega-embed", "build/vega-embed.min.js"))
PLACEHOLDERS = ("{plot_divs}", "{scripts}", "{refresh_tag}")  # what DVC replaces in a template
TEMPLATE = Path(".plots") / "offline.html"  # relative to the project root; git ignores .plots/
_COUNT_DRAWN = """
(function () {
  var embed = window.vegaEmbed;
  function mark(name) {
    document.body.dataset[name] = String(Number(document.body.dataset[name] || 0) + 1);
  }
  window.vegaEmbed = function (el, spec, opts) {
    return embed(el, spec, Object.assign({renderer: "svg"}, opts)).then(
      function (result) { mark("vegaDrawn"); return result; },
      function (error) { mark("vegaFailed"); throw error; });
  };
})();
"""


def _library(node_modules: Path, package: str, build: str) -> tuple[str, str]:
    """The version and minified source of one installed npm package."""
    manifest, source = node_modules / package / "package.json", node_modules / package / build
    if not source.is_file():
        raise DataError(f"{source}: missing; install the plotting libraries with `npm ci` in the project root")
    code = source.read_text(encoding="utf-8")
    for bad in (*PLACEHOLDERS, "</script"):
        if bad in code:
            raise DataError(f"{source}: contains {bad!r}, which would break the inlined template")
    return json.loads(manifest.read_text())["version"], code


def build_template(node_modules: Path) -> str:
    """DVC's page with vega, vega-lite and vega-embed inlined from `node_modules` instead of a CDN."""
    scripts = []
    for package, build in LIBRARIES:
        version, code = _library(node_modules, package, build)
        scripts.append(f"<script>/* {package} {version} */\n{code}\n</script>")
    return "\n".join([
        "<!DOCTYPE html>", "<html>", "<head>", "<meta charset=\"utf-8\">", "{refresh_tag}",
        "<title>DVC Plot (offline)</title>", *scripts, f"<script>{_COUNT_DRAWN}</script>",
        "<style>table { border-spacing: 15px; }</style>", "</head>", "<body>", "{plot_divs}", "</body>", "</html>", ""])


def install_template(root: Path) -> Path:
    """Write the offline template under `root` and point this checkout's DVC at it (in .dvc/config.local, which
    git ignores: a clone without the libraries keeps DVC's default page)."""
    from dvc.config import Config  # DVC's own config writer, imported only where needed

    path = root / TEMPLATE
    write_text(path, build_template(root / "node_modules"))
    with Config(root / ".dvc").edit("local") as conf:
        conf.setdefault("plots", {})["html_template"] = str(Path("..") / TEMPLATE)
    return path
