"""``bench/RESULTS.md``: each benchmark owns one section between its own markers."""

from __future__ import annotations

from pathlib import Path

RESULTS_FILE = Path(__file__).resolve().parent / "RESULTS.md"
RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Written by the benchmarks in `bench/` (`make bench`); each one rewrites only the section\n"
    "between its own markers.\n"
)


def update_section(name: str, section: str, path: Path = RESULTS_FILE) -> None:
    """Put ``section`` between the ``name`` markers of ``path`` (created when missing)."""
    start_marker, end_marker = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start_marker}\n{section.strip()}\n{end_marker}"
    text = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    start, end = text.find(start_marker), text.find(end_marker)
    if start != -1 and end > start:
        text = text[:start] + block + text[end + len(end_marker) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
