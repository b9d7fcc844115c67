"""The start-up benchmark (bench/startup.py): one real crawl of its page, timed."""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

from bench.startup import Run, _FirstRequest, _Handler, byte_compile, crawl_once, table
from tests.conftest import ROOT

if TYPE_CHECKING:
    from pathlib import Path


def test_a_crawl_is_timed_to_its_first_request_and_its_exit() -> None:
    server = _FirstRequest(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = crawl_once(ROOT, server, 0)
    finally:
        server.shutdown()
        server.server_close()
    assert run.status == 0
    assert not math.isnan(run.first_request)
    assert 0 < run.first_request < run.exit


def test_the_table_shows_medians() -> None:
    runs = [Run(1.0, 3.0, 0), Run(2.0, 2.0, 0), Run(1.5, 2.5, 0)]
    shown = table({"this checkout": runs}, [0.5, 0.7, 0.6])
    assert "| this checkout | 3 | 1.50 | 2.50 | 0 |" in shown
    assert "| floor: `scrapy version` (no project) | 3 | | 0.60 | |" in shown


def test_the_checkout_is_byte_compiled_first(tmp_path: Path) -> None:
    # what a run reads instead of the sources, even where PYTHONDONTWRITEBYTECODE is set
    (tmp_path / "crawler").mkdir()
    (tmp_path / "crawler" / "module.py").write_text("VALUE = 1\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "other.py").write_text("VALUE = 2\n")
    byte_compile(tmp_path)
    assert [path.name.split(".")[0] for path in tmp_path.glob("crawler/__pycache__/*.pyc")] == [
        "module"
    ]
    assert not (tmp_path / "elsewhere" / "__pycache__").exists()
