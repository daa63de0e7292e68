"""The archive downloader and cache, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from tsexplain.data import fetch_archive, load_archive
from tsexplain.data.archive import archive_cache_dir
from tsexplain.errors import TsExplainError

TS_TRAIN = "@problemName Toy\n@univariate true\n@classLabel true a b\n@data\n1,2,3:a\n4,5,6:b\n"
TS_TEST = "@problemName Toy\n@univariate true\n@classLabel true a b\n@data\n7,8,9:b\n"
ARFF_TRAIN = "@relation Toy\n@attribute t1 numeric\n@attribute c {a,b}\n@data\n9,a\n"


def zip_bytes(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


class Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        if self.path == "/Short.zip":  # promises more bytes than it sends
            self.send_response(200)
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b"PK\x03\x04 partial")
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "Toy.zip").write_bytes(
        zip_bytes(
            {
                "Toy/Toy_TRAIN.ts": TS_TRAIN,
                "Toy/Toy_TEST.ts": TS_TEST,
                "Toy/Toy_TRAIN.arff": ARFF_TRAIN,
            }
        )
    )
    (root / "Broken.zip").write_bytes(b"<html>not a zip</html>")
    (root / "Evil.zip").write_bytes(zip_bytes({"../escape.ts": TS_TRAIN}))
    requests: list[str] = []
    handler = type("H", (Handler,), {"requests": requests})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root, requests
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_download_once_then_read_from_the_cache(
    server: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    url, _, requests = server
    cache = tmp_path / "cache"
    train = load_archive("Toy", "train", base_url=url, cache_dir=cache)
    assert train.meta["format"] == "ts"  # .ts is preferred over .arff
    np.testing.assert_array_equal(train.X[:, 0], [[1, 2, 3], [4, 5, 6]])
    assert train.name == "Toy_TRAIN" and train.classes == ("a", "b")
    test = load_archive("Toy", "test", base_url=url, cache_dir=cache, znormalise=True)
    np.testing.assert_allclose(test.X[0, 0], [-1.2247449, 0, 1.2247449], rtol=1e-6)
    assert requests == ["/Toy.zip"]
    folder = cache / "archive" / "Toy"
    assert (folder / ".complete").read_text().startswith(f"{url}Toy.zip")
    assert fetch_archive("Toy", base_url="http://127.0.0.1:9/", cache_dir=cache) == folder
    fetch_archive("Toy", base_url=url, cache_dir=cache, force=True)
    assert requests == ["/Toy.zip", "/Toy.zip"]


def test_environment_variables_choose_cache_and_mirror(
    server: tuple[str, Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, _ = server
    monkeypatch.setenv("TSEXPLAIN_DATA", str(tmp_path / "envcache"))
    monkeypatch.setenv("TSEXPLAIN_ARCHIVE_URL", url)
    ds = load_archive("Toy", "test")
    assert ds.n_cases == 1
    assert (tmp_path / "envcache" / "archive" / "Toy" / "Toy" / "Toy_TEST.ts").is_file()
    monkeypatch.delenv("TSEXPLAIN_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert archive_cache_dir() == tmp_path / "home" / ".cache" / "tsexplain"


def test_checksums(server: tuple[str, Path, list[str]], tmp_path: Path) -> None:
    url, root, _ = server
    digest = hashlib.sha256((root / "Toy.zip").read_bytes()).hexdigest()
    fetch_archive("Toy", base_url=url, cache_dir=tmp_path / "a", sha256=digest.upper())
    with pytest.raises(TsExplainError, match=r"checksum mismatch"):
        fetch_archive("Toy", base_url=url, cache_dir=tmp_path / "b", sha256="0" * 64)
    assert not (tmp_path / "b" / "archive" / "Toy").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Missing", r"HTTP 404.*case-sensitive"),
        ("Broken", "not a valid zip archive"),
        ("Evil", "unsafe path '../escape.ts'"),
        ("Short", "stopped after 12 of 5000 bytes"),
    ],
)
def test_failed_downloads_leave_nothing_in_the_cache(
    server: tuple[str, Path, list[str]], tmp_path: Path, name: str, message: str
) -> None:
    url, _, _ = server
    with pytest.raises(TsExplainError, match=message):
        load_archive(name, base_url=url, cache_dir=tmp_path / "c")
    archive = tmp_path / "c" / "archive"
    assert sorted(p.name for p in archive.iterdir()) == []
    assert not (tmp_path / "escape.ts").exists()


def test_unreachable_server_and_bad_names(tmp_path: Path) -> None:
    with pytest.raises(TsExplainError, match=r"could not download"):
        fetch_archive("Toy", base_url="http://127.0.0.1:9/", cache_dir=tmp_path, timeout=5)
    with pytest.raises(TsExplainError, match=r"invalid data set name"):
        fetch_archive("../etc", cache_dir=tmp_path)
    with pytest.raises(TsExplainError, match=r"unknown split"):
        load_archive("Toy", "validation", cache_dir=tmp_path)


def test_files_placed_by_hand_are_used_offline(tmp_path: Path) -> None:
    folder = tmp_path / "archive" / "Hand"
    folder.mkdir(parents=True)
    (folder / "Hand_TRAIN.tsv").write_text("1\t1\t2\n2\t3\t4\n")
    ds = load_archive("Hand", base_url="http://127.0.0.1:9/", cache_dir=tmp_path)
    assert ds.name == "Hand_TRAIN" and ds.n_cases == 2
