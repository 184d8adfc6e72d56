"""Mocks and instrumentation see the requests of the default async transport, whatever the order.

respx and pytest-httpx replace a request handler of httpx's transport or of
httpcore; OpenTelemetry's httpx instrumentation wraps one with wrapt. The
adapter decides on each request, from what is installed then, to hand the
request to httpx's own transport, where they see it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import httpx
import pytest
import respx
import wrapt

from albert import AsyncAlbert
from tests.transport.conftest import Serve, sdk_client
from tests.transport.servers import answering, ok

SESSION = {"id": "s1", "name": "real", "sourceSessionId": "x"}
MOCKED = {"id": "s1", "name": "mocked", "sourceSessionId": "x"}


@pytest.fixture
def real(serve: Serve):  # type: ignore[no-untyped-def]
    return serve(answering(lambda exchange: ok(json.dumps(SESSION).encode())))


@pytest.mark.parametrize("using", ["httpcore", "httpx"])
async def test_respx_sees_requests_of_a_client_built_before_or_inside_it(
    real, using: str, anyio_backend: object
) -> None:
    before = AsyncAlbert(base_url=real.url, token="t")
    with respx.mock(using=using, base_url=real.url) as router:
        router.get("/api/v3/chats/sessions/s1").respond(json=MOCKED)
        inside = AsyncAlbert(base_url=real.url, token="t")
        assert (await before.chat_sessions.get_by_id(id="s1")).name == "mocked"
        assert (await inside.chat_sessions.get_by_id(id="s1")).name == "mocked"
    assert real.exchanges == []
    # The mock gone, the same clients reach the server again.
    assert (await before.chat_sessions.get_by_id(id="s1")).name == "real"
    assert (await inside.chat_sessions.get_by_id(id="s1")).name == "real"
    assert len(real.exchanges) == 2
    if anyio_backend != "trio":  # ... through aiohttp, not httpx's own transport
        assert before.session.http_client._transport._pools  # type: ignore[attr-defined]
    await before.aclose()
    await inside.aclose()


async def test_respx_pass_through_reaches_the_server(real) -> None:
    async with sdk_client(base_url=real.url) as http:
        with respx.mock(base_url=real.url) as router:
            router.get("/mocked").respond(text="mock")
            router.get("/real").pass_through()
            assert (await http.get("/mocked")).text == "mock"
            assert (await http.get("/real")).json() == SESSION
    assert [e.request_line for e in real.exchanges] == ["GET /real HTTP/1.1"]


async def test_pytest_httpx_sees_requests(real, httpx_mock) -> None:  # type: ignore[no-untyped-def]
    httpx_mock.add_response(url=f"{real.url}/api/v3/chats/sessions/s1", json=MOCKED)
    async with AsyncAlbert(base_url=real.url, token="t") as albert:
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "mocked"
    assert real.exchanges == []


async def test_a_wrapt_wrapper_of_httpx_transport_sees_requests(real) -> None:
    seen: list[str] = []

    async def wrapper(wrapped, instance, args, kwargs):  # type: ignore[no-untyped-def]
        seen.append(str(args[0].url))
        return await wrapped(*args, **kwargs)

    async with AsyncAlbert(base_url=real.url, token="t") as albert:
        original = httpx.AsyncHTTPTransport.__dict__["handle_async_request"]
        wrapt.wrap_function_wrapper(httpx, "AsyncHTTPTransport.handle_async_request", wrapper)
        try:
            assert (await albert.chat_sessions.get_by_id(id="s1")).name == "real"
        finally:
            httpx.AsyncHTTPTransport.handle_async_request = original  # type: ignore[method-assign]
        assert (await albert.chat_sessions.get_by_id(id="s1")).name == "real"  # unwrapped
    assert seen == [f"{real.url}/api/v3/chats/sessions/s1"]
    assert len(real.exchanges) == 2


async def test_opentelemetry_httpx_instrumentation_sees_requests(real) -> None:
    instrumentation = pytest.importorskip("opentelemetry.instrumentation.httpx")
    seen: list[str] = []

    async def hook(span, request) -> None:  # type: ignore[no-untyped-def]
        seen.append(str(request.url))

    instrumentor = instrumentation.HTTPXClientInstrumentor()
    async with AsyncAlbert(base_url=real.url, token="t") as albert:
        instrumentor.instrument(async_request_hook=hook)
        try:
            await albert.chat_sessions.get_by_id(id="s1")
        finally:
            instrumentor.uninstrument()
        await albert.chat_sessions.get_by_id(id="s1")  # no longer instrumented
        # Instrumenting one client wraps its own transport: the adapter itself.
        instrumentation.HTTPXClientInstrumentor.instrument_client(
            albert.session.http_client, request_hook=hook
        )
        await albert.chat_sessions.get_by_id(id="s1")
    assert seen == [f"{real.url}/api/v3/chats/sessions/s1"] * 2
    assert len(real.exchanges) == 3


def _fresh_interpreter(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("albert_first", [False, True], ids=["imported-inside", "imported-before"])
def test_a_fresh_interpreter_importing_albert_inside_respx_mock_is_mocked(
    albert_first: bool,
) -> None:
    code = f"""
        import asyncio, sys
        {"import albert" if albert_first else ""}
        import respx

        async def main():
            with respx.mock(base_url="http://albert.invalid") as router:
                router.get("/api/v3/chats/sessions/s1").respond(
                    json={{"id": "s1", "name": "mocked", "sourceSessionId": "x"}}
                )
                from albert import AsyncAlbert
                async with AsyncAlbert(base_url="http://albert.invalid", token="t") as client:
                    print((await client.chat_sessions.get_by_id(id="s1")).name)

        asyncio.run(main())
    """
    assert _fresh_interpreter(code) == "mocked"


def test_a_fresh_pytest_run_with_pytest_httpx_is_mocked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio

        def test_mocked(httpx_mock):
            httpx_mock.add_response(
                url="http://albert.invalid/api/v3/chats/sessions/s1",
                json={"id": "s1", "name": "mocked", "sourceSessionId": "x"},
            )
            from albert import AsyncAlbert  # first imported here

            async def main():
                async with AsyncAlbert(base_url="http://albert.invalid", token="t") as client:
                    return (await client.chat_sessions.get_by_id(id="s1")).name

            assert asyncio.run(main()) == "mocked"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)


def test_import_albert_imports_neither_aiohttp_nor_httpcore() -> None:
    code = """
        import sys
        import albert
        from albert import AsyncAlbert
        client = AsyncAlbert(base_url="http://albert.invalid", token="t")
        print(sorted(m for m in ("aiohttp", "yarl", "httpcore") if m in sys.modules))
    """
    assert _fresh_interpreter(code) == "[]"
