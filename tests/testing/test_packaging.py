"""How the emulator ships: lazy imports, the missing-extra message, the entry points."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_albert_loads_neither_starlette_nor_uvicorn() -> None:
    result = _python(
        "import sys, albert, albert.testing, albert.testing.pytest_plugin, albert.cli\n"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'albert.testing.app') "
        "if m in sys.modules))"
    )
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize(
    "statement",
    [
        "from albert.testing import LocalAlbert",
        "from albert.testing import EmulatorApp",
        "import albert.testing.server",
        "import albert.testing.app",
    ],
)
def test_without_the_extra_the_error_says_what_to_install(statement: str) -> None:
    result = _python(
        "import sys\n"
        "sys.modules['starlette'] = None  # as if it were not installed\n"
        "try:\n"
        f"    {statement}\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    assert result.stdout.strip() == (
        "ImportError the Albert emulator (albert.testing) needs the 'testing' extra: "
        "pip install 'albert-chat[testing]'"
    ), result.stderr


def test_the_stores_need_no_extra() -> None:
    result = _python(
        "import sys\n"
        "sys.modules['starlette'] = sys.modules['uvicorn'] = None\n"
        "from albert.testing import MemoryStore, SQLiteStore, FaultInjector\n"
        "print('ok')"
    )
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize("command", ["demo", "serve"])
@pytest.mark.parametrize("missing", ["uvicorn", "starlette"])
def test_the_cli_says_what_to_install(command: str, missing: str) -> None:
    result = _python(
        "import sys\n"
        f"sys.modules[{missing!r}] = None\n"
        "from albert.cli import main\n"
        f"sys.exit(main([{command!r}]))"
    )
    assert result.returncode == 1
    assert "pip install 'albert-chat[testing]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_name_is_an_attribute_error() -> None:
    import albert.testing

    with pytest.raises(AttributeError, match="nothing"):
        albert.testing.nothing  # noqa: B018
    assert "LocalAlbert" in dir(albert.testing)


def test_the_entry_points() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins["albert"] == "albert.testing.pytest_plugin"
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts["albert-chat"] == "albert.cli:main"
