"""The benchmarks' corpus access, on ``demo/pages`` (the corpus's manifest format)."""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING

from bench.harness.corpus import (
    CORPUS_ENV,
    DEFAULT_CORPUS_DIR,
    DEFAULT_EVALSET_DIR,
    EVALSET_ENV,
    corpus_dir,
    corpus_missing,
    evalset_dir,
    load_pages,
    read_body,
)
from demo.site import PAGES_DIR

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

# GB-encoded Chinese page without a URL in the manifest: it gets a placeholder.
CHINESE_PAGE = "cwced/f70d9c97-9d64-415e-a7e4-840c9258eaf5"


def test_load_pages_filters_and_limits() -> None:
    pages = {page.id: page for page in load_pages(PAGES_DIR)}
    assert len(pages) >= 30
    assert [page.source for page in load_pages(PAGES_DIR, source="cwced")] == ["cwced", "cwced"]
    assert len(load_pages(PAGES_DIR, limit=3)) == 3
    assert pages[CHINESE_PAGE].url == f"https://example.invalid/{CHINESE_PAGE}"
    assert pages[CHINESE_PAGE].body().lstrip()[:1] == b"<"


def test_read_body_gunzips_only_gzipped_files(tmp_path: Path) -> None:
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(b"<html>zipped</html>"))
    (tmp_path / "page.html").write_bytes(b"<html>plain</html>")
    assert read_body(tmp_path / "page.html.gz") == b"<html>zipped</html>"
    assert read_body(tmp_path / "page.html") == b"<html>plain</html>"


def test_corpus_location_and_the_message_when_it_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(CORPUS_ENV, raising=False)
    assert corpus_dir() == DEFAULT_CORPUS_DIR
    monkeypatch.setenv(CORPUS_ENV, str(tmp_path))
    assert corpus_dir() == tmp_path
    assert corpus_missing(tmp_path, "bench-extract")
    error = capsys.readouterr().err
    assert str(tmp_path / "manifest.jsonl") in error
    assert f"{CORPUS_ENV}=/path/to/corpus make bench-extract" in error
    assert not corpus_missing(PAGES_DIR, "bench-extract")
    assert capsys.readouterr().err == ""


def test_second_set_location_and_the_message_when_it_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(EVALSET_ENV, raising=False)
    assert evalset_dir() == DEFAULT_EVALSET_DIR
    monkeypatch.setenv(EVALSET_ENV, str(tmp_path))
    assert evalset_dir() == tmp_path
    assert corpus_missing(tmp_path, "bench-extract", what="second set", variable=EVALSET_ENV)
    error = capsys.readouterr().err
    assert error.startswith(f"No second set found: looked for {tmp_path / 'manifest.jsonl'}")
    assert f"{EVALSET_ENV}=/path/to/second-set make bench-extract" in error
