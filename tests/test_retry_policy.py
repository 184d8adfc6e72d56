"""Retry decisions and wait arithmetic, without any I/O."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx
import pytest

from albert import exceptions as exc
from albert.core.retry import RetryPolicy, parse_retry_after, retry_reason


def _http_error(status: int, retry_after: str | None = None) -> exc.AlbertHTTPError:
    headers = {"retry-after": retry_after} if retry_after else {}
    request = httpx.Request("GET", "https://albert.test/x")
    response = httpx.Response(status, headers=headers, request=request)
    return exc.exception_class_for_status(status)(
        "e", status_code=status, method="GET", url=str(request.url), response=response
    )


def _transport_error(cause: Exception) -> exc.AlbertTransportError:
    error = exc.AlbertConnectionError("x")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0", 0.0), ("2.5", 2.5), ("-4", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 42, usegmt=True), now=now) == 42.0
    assert parse_retry_after(formatdate(now - 42, usegmt=True), now=now) == 0.0


def test_policy_waits() -> None:
    policy = RetryPolicy(jitter=lambda: 1.0)
    assert [policy.wait_seconds(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]
    assert policy.wait_seconds(1, _http_error(429, "12")) == 12.0
    assert policy.wait_seconds(1, _http_error(503, "99")) == 60.0
    assert RetryPolicy(jitter=lambda: 0.0).wait_seconds(3) == 0.0


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


@pytest.mark.parametrize(
    ("error", "method", "idempotent", "retried"),
    [
        (_transport_error(httpx.ConnectError("x")), "POST", None, True),
        (_transport_error(httpx.PoolTimeout("x")), "POST", None, True),
        (_transport_error(httpx.ReadTimeout("x")), "POST", None, False),
        (_transport_error(httpx.ReadTimeout("x")), "POST", True, True),
        (_transport_error(httpx.ReadError("x")), "GET", None, True),
        (_transport_error(httpx.ReadError("x")), "GET", False, False),
        (_http_error(429), "POST", False, True),
        (_http_error(503), "POST", None, False),
        (_http_error(503), "PATCH", None, True),
        (_http_error(501), "GET", None, False),
        (_http_error(409), "GET", None, False),
        (ValueError("not ours"), "GET", None, False),
    ],
)
def test_retry_decisions(
    error: BaseException, method: str, idempotent: bool | None, retried: bool
) -> None:
    assert (retry_reason(error, method=method, idempotent=idempotent) is not None) is retried


def test_sync_primitive_really_sleeps() -> None:
    from albert._backends import sync_primitives

    started = time.monotonic()
    sync_primitives.sleep(0.05)
    assert time.monotonic() - started >= 0.045


@pytest.mark.anyio
async def test_async_primitive_really_sleeps() -> None:
    from albert._backends import async_primitives

    started = time.monotonic()
    await async_primitives.sleep(0.05)
    assert time.monotonic() - started >= 0.045
