"""Test configuration shared by every test: anyio backends and environment hygiene."""

from __future__ import annotations

import inspect

import pytest


@pytest.fixture(
    params=[
        pytest.param("asyncio", id="asyncio"),
        # uvicorn[standard] serves on uvloop: the async client must work there too.
        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
        pytest.param("trio", id="trio"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return request.param


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    # Async tests are written once under tests/_async and generated into
    # tests/_sync: mark only the coroutine ones for anyio (asyncio, uvloop and trio),
    # so their sync twins run once. Marking here, before collection, lets the
    # anyio_backend parametrization apply.
    if name.startswith("test") and inspect.iscoroutinefunction(obj):
        pytest.mark.anyio(obj)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ALBERT_BASE_URL",
        "ALBERT_TOKEN",
        "ALBERT_CLIENT_ID",
        "ALBERT_CLIENT_SECRET",
        "ALBERT_LOG",
    ):
        monkeypatch.delenv(name, raising=False)
