"""The package's floors (pyproject's ``[tool.importlinter]``): no import runs up one.

`core` never imports a variant or the I/O of `auth`; `exceptions` imports
nothing of ours above it (so `core.retry` and `exceptions` cannot import each
other); `_sync` and `_async` never import each other.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_no_import_runs_up_a_floor(capsys: pytest.CaptureFixture[str]) -> None:
    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)

    assert status == 0, capsys.readouterr().out
