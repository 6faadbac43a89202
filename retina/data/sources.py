"""Bring the Retina Blood Vessel set to data/raw: from Kaggle, an http(s) zip, a local zip or a local folder,
verified file by file and against the reference checksums before anything is written."""
from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from retina.atomic import atomic_path
from retina.data.dataset import compare_manifest, copy_raw, format_manifest, manifest, parse_manifest, verify_dataset
from retina.errors import DataError, SourceError

log = logging.getLogger("download")

KAGGLE_PREFIX = "kaggle:"
KAGGLE_URL = "https://www.kaggle.com/api/v1/datasets/download/{}"
HOW_TO_SUPPLY = (
    "Supply the data in one of these ways: set RETINA_DATA (or data.source in params.yaml) to a local folder or zip "
    "of the Kaggle 'Retina Blood Vessel' set ([Data/]{train,test}/{image,mask}/<n>.png), to an http(s) URL of "
    "such a zip, or to kaggle:abdallahwagih/retina-blood-vessel on a machine that can reach kaggle.com "
    "(credentials from ~/.kaggle/kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY when the download needs them)."
)


def _kaggle_headers() -> dict[str, str]:
    user, key = os.environ.get("KAGGLE_USERNAME"), os.environ.get("KAGGLE_KEY")
    cred = Path.home() / ".kaggle" / "kaggle.json"
    if not (user and key) and cred.is_file():
        data = json.loads(cred.read_text())
        user, key = data.get("username"), data.get("key")
    if user and key:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}
    return {}


def download(url: str, dest: Path, headers: dict[str, str] | None = None, timeout: float = 30) -> Path:
    """Download `url` to `dest`; a clear SourceError if it cannot be reached."""
    request = urllib.request.Request(url, headers={"User-Agent": "retina-unet", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SourceError(f"cannot download {url}: {exc}. {HOW_TO_SUPPLY}") from None
    return dest


def extract_zip(archive: Path, dest: Path) -> Path:
    """Extract a zip, refusing a truncated or corrupt one with its name."""
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise SourceError(f"{archive}: corrupt member {bad} (CRC mismatch); download it again")
            zf.extractall(dest)
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{archive}: not a readable zip ({exc}); it may be truncated: download it again") from None
    except EOFError:
        raise SourceError(f"{archive}: the zip ends early (truncated); download it again") from None
    return dest


def find_root(folder: Path) -> Path:
    """The folder holding train/ and test/: `folder` itself, or one or two levels down (e.g. Data/)."""
    candidates = [folder, *sorted(p for p in folder.glob("*") if p.is_dir()),
                  *sorted(p for p in folder.glob("*/*") if p.is_dir())]
    for candidate in candidates:
        if (candidate / "train").is_dir() and (candidate / "test").is_dir():
            return candidate
    raise SourceError(f"{folder}: no train/ and test/ folders found (expected [Data/]{{train,test}}/{{image,mask}}/)")


def fetch(source: str, workdir: Path) -> Path:
    """Make `source` available as a local folder (using `workdir` for downloads) and return its dataset root."""
    workdir.mkdir(parents=True, exist_ok=True)
    if source.startswith(KAGGLE_PREFIX):
        archive = download(KAGGLE_URL.format(source[len(KAGGLE_PREFIX):]), workdir / "dataset.zip", _kaggle_headers())
        return find_root(extract_zip(archive, workdir / "unzipped"))
    if source.startswith(("http://", "https://")):
        archive = download(source, workdir / "dataset.zip")
        return find_root(extract_zip(archive, workdir / "unzipped"))
    path = Path(source).expanduser()
    if path.is_dir():
        return find_root(path)
    if path.is_file():
        return find_root(extract_zip(path, workdir / "unzipped"))
    raise SourceError(f"data source {source!r} is neither an existing folder, a zip file, a URL nor kaggle:<dataset>. "
                      f"{HOW_TO_SUPPLY}")


def import_dataset(source: str, out: Path, reference: Path, strict: bool) -> list[str]:
    """Fetch and verify the set, then replace `out` with it; return the manifest differences from `reference`.

    Nothing is written unless the whole set verifies; a mismatch with the reference is a warning, or an error
    when data.strict is true.
    """
    log.info("source: %s", source)
    with tempfile.TemporaryDirectory(prefix="retina-download-") as work:
        root = fetch(source, Path(work))
        pairs = verify_dataset(root)
        entries = manifest(pairs, root)
        problems = compare_manifest(entries, parse_manifest(reference.read_text())) if reference.is_file() else \
            [f"{reference}: reference manifest missing"]
        if problems:
            message = f"{len(problems)} file(s) differ from {reference}: " + "; ".join(problems[:5])
            if strict:
                raise DataError(message + " (data.strict is true)")
            log.warning("WARNING: %s", message)
        with atomic_path(out) as tmp:
            copy_raw(pairs, root, tmp, format_manifest(entries))
    log.info("verified %d files into %s", len(entries), out)
    return problems
