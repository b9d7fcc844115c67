"""The project's metadata as build tools will keep reading it: setuptools warns that a
``project.license`` table stops building on 2027-02-18 (PEP 639 wants an SPDX expression, which
setuptools reads from version 77)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_license_is_an_spdx_expression_the_build_backend_reads() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert config["project"]["license"] == "Apache-2.0"
    floors = [
        int(found.group(1))
        for text in config["build-system"]["requires"]
        if (found := re.fullmatch(r"setuptools\s*>=\s*(\d+)(?:\.\d+)*", text))
    ]
    assert floors, "setuptools with a lower bound"
    assert floors[0] >= 77  # the first setuptools to read a license expression
