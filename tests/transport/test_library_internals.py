"""The private names of aiohttp and httpx the adapter relies on, each checked by name.

A behaviour test exercises each one too (named beside it), but a failure
there says what went wrong, not which library changed what. Here a change in
either library fails by name, and pyproject's floors must be releases that
have every one: an older aiohttp failed every response read from an open
connection with a bare ``AttributeError``.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import re
from pathlib import Path

import aiohttp
import aiohttp.client_proto
import httpx
from packaging.version import Version

#: The oldest aiohttp with all of it (``ResponseHandler.closed`` made on demand came in 3.12.7).
AIOHTTP_FLOOR = Version("3.12.7")
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_aiohttp_has_what_the_adapter_uses() -> None:
    # Turned off, so that aiohttp resends nothing by itself
    # (test_a_delete_dropped_after_it_was_sent_is_retried_by_the_sdk_not_by_aiohttp).
    assert "_retry_connection" in aiohttp.ClientSession.ATTRS
    # The future a reset connection fails
    # (test_a_close_delimited_body_cut_by_a_reset_is_an_error_not_a_short_body).
    assert isinstance(aiohttp.client_proto.ResponseHandler.closed, property)
    # The hook a connection goes back through, and the idle ones it joins
    # (test_idle_connections_beyond_max_keepalive_are_closed, the write timeouts).
    parameters = inspect.signature(aiohttp.TCPConnector._release).parameters
    assert list(parameters)[:3] == ["self", "key", "protocol"]

    async def idle_connections() -> object:
        connector = aiohttp.TCPConnector()
        try:
            return connector._conns
        finally:
            await connector.close()

    conns = asyncio.run(idle_connections())
    assert isinstance(conns, collections.defaultdict)
    assert conns.default_factory is collections.deque
    # Where the request body learns its connection (the write timeout tests).
    assert inspect.iscoroutinefunction(aiohttp.ClientRequest.send)
    session = inspect.signature(aiohttp.ClientSession).parameters
    assert {"request_class", "max_line_size", "max_field_size"} <= set(session)
    assert "ceil_threshold" in inspect.signature(aiohttp.ClientTimeout).parameters


def test_httpx_has_what_the_adapter_uses() -> None:
    # The environment's proxies, read as httpx's trust_env reads them (test_environment.py).
    from httpx._utils import get_environment_proxies

    assert isinstance(get_environment_proxies(), dict)
    assert isinstance(httpx.Proxy("http://u:p@proxy.test").raw_auth, tuple)


def test_the_aiohttp_floor_of_pyproject_has_all_of_it() -> None:
    [floor] = re.findall(r'"aiohttp>=([0-9.]+)"', PYPROJECT.read_text())
    assert Version(floor) >= AIOHTTP_FLOOR
    assert Version(aiohttp.__version__) >= Version(floor)
