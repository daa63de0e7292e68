"""Download UCR/UEA archive data sets once and keep them in a local cache.

A data set ``<Name>`` is fetched as ``<base_url>/<Name>.zip`` (the layout of
timeseriesclassification.com, which holds ``<Name>_TRAIN.ts`` / ``_TEST.ts`` and often
``.arff`` / ``.txt`` copies), unpacked into ``<cache>/archive/<Name>/`` and read from there
on every later call without touching the network. Files put into that folder by hand are
used the same way, which is how to work offline.

- cache directory: ``cache_dir=`` argument, else ``$TSEXPLAIN_DATA``, else
  ``~/.cache/tsexplain``;
- base URL: ``base_url=`` argument, else ``$TSEXPLAIN_ARCHIVE_URL``, else
  :data:`DEFAULT_BASE_URL`.

Downloads are atomic: a partial or corrupt download never lands in the cache.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from tsexplain.data.dataset import Dataset
from tsexplain.data.io import load
from tsexplain.errors import TsExplainError, check_choice

__all__ = ["DEFAULT_BASE_URL", "archive_cache_dir", "fetch_archive", "load_archive"]

logger = logging.getLogger("tsexplain.data")

DEFAULT_BASE_URL = "https://timeseriesclassification.com/aeon-toolkit/"
#: File kinds looked for in an unpacked data set, most preferred first.
PREFERRED_SUFFIXES = (".ts", ".arff", ".tsv", ".txt")
_COMPLETE = ".complete"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def archive_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache root: ``cache_dir``, else ``$TSEXPLAIN_DATA``, else ``~/.cache/tsexplain``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("TSEXPLAIN_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "tsexplain"


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or ".." in name:
        raise TsExplainError(
            f"invalid data set name {name!r}; archive names are letters, digits, '_', '-' "
            "and '.', e.g. 'FordA' or 'BasicMotions'"
        )
    return name


def _download(url: str, dest: Path, timeout: float) -> str:
    """Stream ``url`` into ``dest``; return the SHA-256 of the bytes."""
    request = urllib.request.Request(url, headers={"User-Agent": "tsexplain"})
    digest = hashlib.sha256()
    received = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, dest.open("wb") as fh:
            expected = response.headers.get("Content-Length")
            while chunk := response.read(1 << 16):
                fh.write(chunk)
                digest.update(chunk)
                received += len(chunk)
    except urllib.error.HTTPError as exc:
        hint = "; archive names are case-sensitive, e.g. 'FordA'" if exc.code == 404 else ""
        raise TsExplainError(
            f"{url}: the server answered HTTP {exc.code} ({exc.reason}){hint}"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TsExplainError(
            f"{url}: could not download ({reason}); check the connection, set "
            "TSEXPLAIN_ARCHIVE_URL to a mirror, or put the files into the cache folder by hand"
        ) from None
    if expected is not None and expected.isdigit() and int(expected) != received:
        raise TsExplainError(
            f"{url}: the download stopped after {received} of {expected} bytes; try again"
        )
    return digest.hexdigest()


def _unpack(archive: Path, target: Path, url: str) -> None:
    """Extract a zip safely (no absolute paths or ``..``) into ``target``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                parts = PurePosixPath(info.filename.replace("\\", "/")).parts
                if (
                    info.filename.startswith(("/", "\\"))
                    or ".." in parts
                    or (parts and ":" in parts[0])
                ):
                    raise TsExplainError(
                        f"{url}: the archive holds an unsafe path {info.filename!r}; refusing it"
                    )
                if info.is_dir() or not parts:
                    continue
                out = target.joinpath(*parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise TsExplainError(f"{url}: the download is not a valid zip archive ({exc})") from None


def fetch_archive(
    name: str,
    *,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    sha256: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download and unpack archive data set ``name`` (once); return its cache folder.

    Parameters
    ----------
    name : str
        The archive's name for the data set, e.g. ``"FordA"`` (case-sensitive).
    base_url : str, optional
        Where ``<name>.zip`` lives; default ``$TSEXPLAIN_ARCHIVE_URL`` or
        :data:`DEFAULT_BASE_URL`.
    cache_dir : path-like, optional
        Cache root; default ``$TSEXPLAIN_DATA`` or ``~/.cache/tsexplain``.
    force : bool
        Download again even if the cache holds the data set (files replace those of the
        same name; nothing else in the folder is deleted).
    sha256 : str, optional
        Expected SHA-256 of the zip file; a mismatch is an error and nothing is cached.
    timeout : float
        Seconds to wait for the server.

    Returns
    -------
    Path
        ``<cache>/archive/<name>``, holding the unpacked files.
    """
    _check_name(name)
    folder = archive_cache_dir(cache_dir) / "archive" / name
    if not force and (folder / _COMPLETE).is_file():
        return folder
    base = base_url or os.environ.get("TSEXPLAIN_ARCHIVE_URL") or DEFAULT_BASE_URL
    url = base.rstrip("/") + "/" + urllib.parse.quote(name) + ".zip"
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{name}."))
    try:
        logger.info("downloading %s", url)
        digest = _download(url, work / "download.zip", timeout)
        if sha256 is not None and digest != sha256.lower():
            raise TsExplainError(
                f"{url}: checksum mismatch (SHA-256 {digest}, expected {sha256}); the file was "
                "not cached"
            )
        unpacked = work / "files"
        unpacked.mkdir()
        _unpack(work / "download.zip", unpacked, url)
        stamp = f"{url}\nsha256 {digest}\n"
        if not folder.exists():
            (unpacked / _COMPLETE).write_text(stamp)
            try:
                os.replace(unpacked, folder)
            except OSError:
                if not (folder / _COMPLETE).is_file():  # not a concurrent download that won
                    raise
        else:  # merge into a folder the user filled by hand, deleting nothing of theirs
            for src in sorted(p for p in unpacked.rglob("*") if p.is_file()):
                dst = folder / src.relative_to(unpacked)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
            (folder / _COMPLETE).write_text(stamp)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("cached %s in %s", name, folder)
    return folder


def _split_file(folder: Path, name: str, split: str) -> Path | None:
    wanted = f"{name}_{split}".lower()
    found = {
        p.suffix.lower(): p
        for p in sorted(folder.rglob("*"), reverse=True)
        if p.is_file() and p.stem.lower() == wanted
    }
    return next((found[s] for s in PREFERRED_SUFFIXES if s in found), None)


def load_archive(
    name: str,
    split: str = "train",
    *,
    base_url: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    sha256: str | None = None,
    timeout: float = 60.0,
    **options: Any,
) -> Dataset:
    """Load one split of an archive data set, downloading it on first use.

    Parameters
    ----------
    name : str
        Archive name, e.g. ``"FordA"``.
    split : {"train", "test"}
        Which file: ``<name>_TRAIN`` or ``<name>_TEST``.
    base_url, cache_dir, force, sha256, timeout
        See :func:`fetch_archive`.
    **options
        Passed to the reader (e.g. ``missing="interpolate"``, ``znormalise=True``).

    Returns
    -------
    Dataset
        ``X`` float32 ``(n_cases, n_channels, n_timepoints)``; read from ``.ts`` if the
        archive has it, else ``.arff``, ``.tsv`` or ``.txt``.

    Examples
    --------
    >>> train = load_archive("GunPoint", "train")  # doctest: +SKIP
    >>> train.X.shape  # doctest: +SKIP
    (50, 1, 150)
    """
    split = str(check_choice("split", split.lower(), ("train", "test"))).upper()
    _check_name(name)
    folder = archive_cache_dir(cache_dir) / "archive" / name
    path = None if force or not folder.is_dir() else _split_file(folder, name, split)
    if path is None:
        folder = fetch_archive(
            name,
            base_url=base_url,
            cache_dir=cache_dir,
            force=force,
            sha256=sha256,
            timeout=timeout,
        )
        path = _split_file(folder, name, split)
    if path is None:
        raise TsExplainError(
            f"{folder}: no {name}_{split} file with a suffix among {list(PREFERRED_SUFFIXES)}"
        )
    options.setdefault("name", f"{name}_{split}")
    return load(path, **options)
