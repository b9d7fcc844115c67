"""Scrapyd as ``docs/operations.md`` ("Scheduling") says: its deploy-and-schedule block, run
against a real Scrapyd on 127.0.0.1. ``scrapyd-deploy`` in a copy of the checkout leaves the
copy clean, and the job scheduled through Scrapyd's HTTP API runs the deployed egg with the
project's add-ons and pipelines and writes rows."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from configparser import ConfigParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit
from urllib.request import urlopen

import pytest

from tests.conftest import FAST_SETTINGS, ROOT, dataset_rows
from tests.markdown import blocks

if TYPE_CHECKING:
    from collections.abc import Iterator

pytest.importorskip("scrapyd", reason="Scrapyd is not installed (it is in the dev extra)")

OPERATIONS = ROOT / "docs" / "operations.md"
BIN = Path(sys.executable).parent
# Set in the deployed copy only: the job's log names it when the job ran the egg's code, and not
# a copy of the project installed in the environment (which would come first on sys.path).
DEPLOYED_BOT_NAME = "news_crawler_deployed"
JOB_TIMEOUT = 90


def _environment() -> dict[str, str]:
    """This process's environment, less what would point git or Scrapy somewhere else."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GIT_", "SCRAPY_", "SCRAPYD_"))
    }


def _run(command: list[str], cwd: Path) -> str:
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, (
        f"{shlex.join(command)}:\n{completed.stdout}{completed.stderr}"
    )
    return completed.stdout


def _git(repository: Path, *arguments: str) -> str:
    identity = ["-c", "user.name=tests", "-c", "user.email=tests@example.invalid"]
    return _run(["git", *identity, "-c", "commit.gpgsign=false", *arguments], repository)


def _api(url: str, fields: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """A call of Scrapyd's JSON API: a GET, or a POST of ``fields``."""
    data = urlencode(fields).encode() if fields is not None else None
    with urlopen(url, data, timeout=10) as response:
        return json.load(response)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[str]:
    """The URL of a Scrapyd on a free port of 127.0.0.1, with its files in ``tmp_path``, run by
    this Python, so its jobs find the project's dependencies; stopped at the end."""
    home = tmp_path / "scrapyd"
    home.mkdir()
    port = _free_port()
    # read from the working directory; no items feed (the dataset is the output), no JOBDIR
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\n"
        f"logs_dir = {home / 'logs'}\n"
        f"dbs_dir = {home / 'dbs'}\n"
        "items_dir =\n"
        "jobs_dir =\n"
        "poll_interval = 0.2\n",
        encoding="utf-8",
    )
    url = f"http://127.0.0.1:{port}/"
    log_path = home / "scrapyd.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd", "--pidfile="],
            cwd=home,
            env=_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    pytest.fail(f"Scrapyd exited:\n{log_path.read_text(encoding='utf-8')}")
                try:
                    _api(url + "daemonstatus.json")
                    break
                except OSError:
                    assert time.monotonic() < deadline, "Scrapyd did not answer in 30 s"
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _copy_of_the_checkout(destination: Path) -> Path:
    """The checkout's files as they are in the working tree, uncommitted changes included (the
    tracked files, and the untracked ones git does not ignore), in a git repository of one
    commit."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # not a tracked file deleted in the working tree
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    _git(destination, "init", "--quiet")
    _git(destination, "add", "--all")
    _git(destination, "commit", "--quiet", "--message", "the checkout as it is")
    return destination


def _documented_commands() -> tuple[list[str], str, list[tuple[str, str]]]:
    """The deploy command, and the URL and fields of the ``schedule.json`` call, of the block
    of operations.md that this test runs."""
    (block,) = [b for b in blocks(OPERATIONS) if b.runner == "tests/test_scrapyd.py"]
    lines = block.code.replace("\\\n", " ").splitlines()
    deploy, schedule = [shlex.split(line, comments=True) for line in lines if line.strip()]
    assert Path(deploy[0]).name == "scrapyd-deploy"
    curl, url, *options = schedule
    assert curl == "curl"
    assert options[::2] == ["-d"] * (len(options) // 2), "curl takes -d name=value only"
    fields = [tuple(option.split("=", 1)) for option in options[1::2]]
    assert all(len(field) == 2 for field in fields)
    return deploy, url, [(name, value) for name, value in fields]


def test_a_deployed_project_runs_a_crawl_scheduled_through_scrapyd(
    tmp_path: Path, scrapyd: str, site_url: str
) -> None:
    deploy, schedule_url, fields = _documented_commands()
    config = ConfigParser()
    config.read(ROOT / "scrapy.cfg", encoding="utf-8")
    assert schedule_url == config["deploy"]["url"] + "schedule.json"
    assert ("project", config["deploy"]["project"]) in fields

    checkout = _copy_of_the_checkout(tmp_path / "checkout")
    cfg = checkout / "scrapy.cfg"
    text, found = re.subn(r"(?m)^url = .*$", f"url = {scrapyd}", cfg.read_text(encoding="utf-8"))
    assert found == 1
    cfg.write_text(text, encoding="utf-8")
    with (checkout / "crawler" / "settings.py").open("a", encoding="utf-8") as settings:
        settings.write(f'\nBOT_NAME = "{DEPLOYED_BOT_NAME}"\n')
    _git(checkout, "commit", "--quiet", "--all", "--message", "deploy to the test's Scrapyd")

    deployed = _run([str(BIN / Path(deploy[0]).name), *deploy[1:]], checkout)
    assert json.loads(deployed)["status"] == "ok"
    # nothing new for git, and nothing the build left for ruff to check
    assert _git(checkout, "status", "--porcelain") == ""
    checked = _run([str(BIN / "ruff"), "check", "--show-files", "."], checkout).splitlines()
    left = [path for path in checked if "/build/" in path or ".egg" in path]
    assert not left, f"ruff checks what the egg build left: {left}"

    output_dir = tmp_path / "output"
    # the doc's feed and dataset folder, swapped for the demo site's feed and a folder in tmp
    assert [name for name, _ in fields] == ["project", "spider", "feeds", "setting"]
    assert dict(fields)["setting"].startswith("OUTPUT_DIR=")
    substitutes = {"feeds": f"{site_url}/feed.xml", "setting": f"OUTPUT_DIR={output_dir}"}
    job = _api(
        scrapyd + urlsplit(schedule_url).path.lstrip("/"),
        [(name, substitutes.get(name, value)) for name, value in fields]
        + [("setting", setting) for setting in FAST_SETTINGS],
    )
    assert job["status"] == "ok", job

    listing = f"{scrapyd}listjobs.json?project={config['deploy']['project']}"
    deadline = time.monotonic() + JOB_TIMEOUT
    while not (finished := [j for j in _api(listing)["finished"] if j["id"] == job["jobid"]]):
        assert time.monotonic() < deadline, f"the job did not finish in {JOB_TIMEOUT} s"
        time.sleep(0.2)
    with urlopen(scrapyd + finished[0]["log_url"].lstrip("/"), timeout=10) as response:
        log = response.read().decode("utf-8")
    assert f"(bot: {DEPLOYED_BOT_NAME})" in log, "the job did not run the deployed egg"
    assert "'finish_reason': 'finished'" in log, log
    assert "Traceback" not in log, log

    rows = dataset_rows(output_dir)
    assert rows, log
    for row in rows:
        assert row["url"].startswith(site_url)
        assert row["text"]
        assert row["language"]
