"""The package's floors (pyproject's ``[tool.importlinter]``): no import runs up one.

`core` never imports a variant, the I/O of `auth` or of the transports, nor a
module that does I/O (sockets, threads, event loops, browsers); `exceptions`
imports nothing of ours above it (so `core.retry` and `exceptions` cannot
import each other); `_sync` and `_async` never import each other.
"""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

import albert

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


def test_no_import_runs_up_a_floor(capsys: pytest.CaptureFixture[str]) -> None:
    status = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)

    assert status == 0, capsys.readouterr().out


def test_every_module_of_the_package_stands_on_a_floor() -> None:
    # A module left out of the layers could import anything, and be imported by anything.
    text = PYPROJECT.read_text(encoding="utf-8")
    layers = text.split('type = "layers"', 1)[1].split("]", 1)[0]
    named = set(re.findall(r"albert\.(\w+)", layers))
    modules = {info.name for info in pkgutil.iter_modules(albert.__path__)}

    assert modules - named == set()
