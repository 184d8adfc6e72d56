"""The exception tree: status mapping, pickling, and no secrets in the text."""

from __future__ import annotations

import pickle

import httpx
import pytest

from albert import exceptions as exc


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, exc.BadRequestError),
        (404, exc.NotFoundError),
        (429, exc.TooManyRequestsError),
        (451, exc.AlbertClientError),
        (503, exc.ServiceUnavailableError),
        (599, exc.AlbertServerError),
    ],
)
def test_exception_class_for_status(status: int, cls: type[exc.AlbertHTTPError]) -> None:
    assert exc.exception_class_for_status(status) is cls


def test_tree_matches_the_design() -> None:
    assert issubclass(exc.NotFoundError, exc.AlbertClientError)
    assert issubclass(exc.AlbertClientError, exc.AlbertHTTPError)
    assert issubclass(exc.BadGateway, exc.AlbertServerError)
    assert issubclass(exc.AlbertServerError, exc.AlbertHTTPError)
    for cls in (
        exc.AlbertAuthError,
        exc.AlbertConnectionError,
        exc.AlbertTimeoutError,
        exc.AlbertHTTPError,
    ):
        assert issubclass(cls, exc.AlbertException)


def test_http_error_pickles_without_the_response() -> None:
    request = httpx.Request("GET", "https://albert.test/api/v3/chats/sessions/x")
    response = httpx.Response(404, json={"message": "gone"}, request=request)
    err = exc.NotFoundError(
        "gone",
        status_code=404,
        method="GET",
        url=str(request.url),
        request_id="r1",
        errors={"message": "gone"},
        response=response,
    )
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is exc.NotFoundError
    assert (copy.status_code, copy.method, copy.url, copy.request_id, copy.errors) == (
        404,
        "GET",
        str(request.url),
        "r1",
        {"message": "gone"},
    )
    assert copy.response is None
    assert str(copy) == str(err)


def test_transport_error_pickles() -> None:
    err = exc.AlbertTimeoutError("GET x timed out", method="GET", url="https://albert.test/x")
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is exc.AlbertTimeoutError
    assert (copy.method, copy.url, str(copy)) == ("GET", "https://albert.test/x", str(err))


def test_retry_after_hint_on_429() -> None:
    request = httpx.Request("GET", "https://albert.test/x")
    response = httpx.Response(429, headers={"retry-after": "7"}, request=request)
    err = exc.TooManyRequestsError(
        "slow down", status_code=429, method="GET", url="https://albert.test/x", response=response
    )
    assert err.retry_after == 7.0
