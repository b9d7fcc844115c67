"""Many ``scrapy`` commands that stop at start, run from one Python process: each runs in a
child forked from a process that imported Scrapy and the project once. As its own process, a
command refused at start spends ~1.5 s importing what every other one imports too; a forked
child runs ``scrapy.cmdline.execute`` with its own ``sys.argv``, standard streams and exit
status, as the ``scrapy`` console script does, in a few milliseconds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RUNNER = r"""
import json, os, sys, tempfile, traceback
import scrapy.cmdline
import crawler.commands.crawl  # what every command of the project imports

results = []
for argv in json.loads(sys.stdin.read()):
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.argv = ["scrapy", *argv]
        try:
            scrapy.cmdline.execute()
            code = 0
        except SystemExit as exc:  # as the interpreter ends on it
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    texts = []
    for stream in (out, err):
        stream.seek(0)
        texts.append(stream.read().decode("utf-8", "surrogateescape"))
    results.append([os.waitstatus_to_exitcode(status), *texts])
json.dump(results, sys.stdout)
"""


def run_commands(
    commands: list[list[str]], cwd: Path = ROOT
) -> list[subprocess.CompletedProcess[str]]:
    """Each of ``commands`` (the arguments after ``scrapy``) as the console script runs it:
    its exit status, standard output and standard error."""
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=json.dumps(commands),
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=300,
        check=True,
    )
    return [
        subprocess.CompletedProcess(["scrapy", *command], code, out, err)
        for command, (code, out, err) in zip(commands, json.loads(done.stdout), strict=True)
    ]
