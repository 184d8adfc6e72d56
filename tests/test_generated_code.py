"""The generated sync tree is current, and every async public method has a sync twin."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import albert._async
import albert._sync

ROOT = Path(__file__).resolve().parent.parent


def test_generated_sync_code_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _modules(package: object) -> dict[str, object]:
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    found = {}
    for info in pkgutil.walk_packages(package.__path__, prefix):  # type: ignore[attr-defined]
        found[info.name[len(prefix) :]] = importlib.import_module(info.name)
    return found


SYNC_NAMES = {
    "AsyncAlbert": "Albert",
    "AsyncAlbertSession": "AlbertSession",
    "AsyncAlbertPaginator": "AlbertPaginator",
    "AsyncTokenProvider": "TokenProvider",
}
SYNC_METHODS = {
    "aclose": "close",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
}


def _public_classes(module: object) -> dict[str, type]:
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and obj.__module__ == module.__name__  # type: ignore[attr-defined]
        and not name.startswith("_")
    }


def _twin_pairs() -> list[tuple[str, type, type]]:
    async_modules = _modules(albert._async)
    sync_modules = _modules(albert._sync)
    assert async_modules.keys() == sync_modules.keys()
    pairs = []
    for mod_name, module in async_modules.items():
        sync_classes = _public_classes(sync_modules[mod_name])
        for name, cls in _public_classes(module).items():
            pairs.append((f"{mod_name}.{name}", cls, sync_classes[SYNC_NAMES.get(name, name)]))
    return pairs


@pytest.mark.parametrize(("name", "async_cls", "sync_cls"), _twin_pairs())
def test_every_public_method_has_a_sync_twin_with_the_same_parameters(
    name: str, async_cls: type, sync_cls: type
) -> None:
    for method_name, method in inspect.getmembers(async_cls, callable):
        if method_name.startswith("_") and method_name not in SYNC_METHODS:
            continue
        if method_name in dir(object) and method_name not in ("__init__",):
            continue
        twin = getattr(sync_cls, SYNC_METHODS.get(method_name, method_name), None)
        assert twin is not None, f"{name}.{method_name} has no sync twin"
        async_params = list(inspect.signature(method).parameters.values())
        sync_params = list(inspect.signature(twin).parameters.values())
        assert [(p.name, p.kind, p.default) for p in async_params] == [
            (p.name, p.kind, p.default) for p in sync_params
        ], f"{name}.{method_name}"
        if inspect.iscoroutinefunction(inspect.unwrap(method)):
            assert not inspect.iscoroutinefunction(inspect.unwrap(twin))


def _generator() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("albert_unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "line",
    [
        '    """Runs on the event loop."""',
        "    # asyncio's cancel",
        '    """Under trio, too."""',
        '    """A coroutine."""',
        '    """The non-blocking client."""',
        '    """Awaiting it collects a list."""',
        '    """Returns\n    -------\n    AsyncChatStream\n        The text."""',
    ],
)
def test_the_generator_refuses_async_prose_in_the_sync_library(line: str) -> None:
    generator: Any = _generator()
    text = generator.HEADER.format(source="x") + f"def f() -> None:\n{line}\n"

    assert generator._forbidden(Path("src/albert/_sync/x.py"), text)
    assert not generator._forbidden(Path("tests/_sync/x.py"), text)  # tests may name a backend
    assert not generator._forbidden(Path("src/albert/_sync/x.py"), text.replace(line, "    pass"))


def test_the_generator_names_the_sync_types_in_docstrings() -> None:
    generator: Any = _generator()
    text = 'def f() -> None:\n    """Returns\n    -------\n    AsyncIterator[str]\n    """\n'

    translated = generator._postprocess(text, "x")

    assert "    Iterator[str]\n" in translated
    assert not generator._forbidden(Path("src/albert/_sync/x.py"), translated)


def test_backends_hold_only_twins_with_the_same_names() -> None:
    # What generated code calls through a module of albert._backends must exist
    # in its twin under the generator's name for it, and nothing else is kept there.
    spec = importlib.util.spec_from_file_location("_generator", ROOT / "scripts" / "unasync.py")
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    replacements: dict[str, str] = generator.REPLACEMENTS
    import albert._backends as backends

    modules = _modules(backends)
    assert modules, "albert._backends holds no module"
    for name, module in modules.items():
        if not name.startswith("async_"):
            assert name.startswith("sync_"), name
            assert f"async_{name[5:]}" in modules, name
            continue
        twin = modules[replacements[name]]
        exported = [replacements.get(item, item) for item in module.__all__]  # type: ignore[attr-defined]
        assert sorted(exported) == sorted(twin.__all__), name  # type: ignore[attr-defined]
