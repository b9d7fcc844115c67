"""The module probe of ``bench/worker_memory.py``, put on ``PYTHONPATH`` of the crawls it measures.

With ``$BENCH_MODULES_DIR`` set, a process that gets ``SIGUSR2`` writes the top-level modules of
its ``sys.modules``, each with its file, one ``name<TAB>file`` a line, to
``$BENCH_MODULES_DIR/<pid>``. Until then it does nothing; the handler imports nothing (that
would change what it reports). A process forked from one that ran this (an extraction worker,
from the fork server) inherits the handler.
"""

import os
import signal
import sys

_FOLDER = os.environ.get("BENCH_MODULES_DIR")


def _write_modules(signum: int, frame: object) -> None:
    found: dict[str, str] = {}
    for name in list(sys.modules):
        top = name.partition(".")[0]
        if top not in found:
            found[top] = getattr(sys.modules.get(top), "__file__", None) or ""
    path = os.path.join(str(_FOLDER), str(os.getpid()))  # noqa: PTH118 - no pathlib import
    with open(path + ".tmp", "w", encoding="utf-8") as out:  # noqa: PTH123
        out.writelines(f"{name}\t{file}\n" for name, file in sorted(found.items()))
    os.replace(path + ".tmp", path)  # noqa: PTH105


if _FOLDER:
    signal.signal(signal.SIGUSR2, _write_modules)
