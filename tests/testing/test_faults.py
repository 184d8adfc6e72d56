"""The fault injector: what a request meets, how counts go down, JSON plans."""

from __future__ import annotations

from typing import Any

import pytest

from albert.testing import FaultInjector


def test_fail_next_counts_down_and_matches_method_and_path() -> None:
    faults = FaultInjector()
    fault = faults.fail_next("get", r"/chats/sessions$", status=503, times=2, retry_after=2)
    assert fault.headers == {"Retry-After": "2"}
    assert faults.take("POST", "/api/v3/chats/sessions") == (0.0, None)
    assert faults.take("GET", "/api/v3/chats/sessions/ses-1") == (0.0, None)
    assert faults.take("GET", "/api/v3/chats/sessions") == (0.0, fault)
    assert faults.take("GET", "/api/v3/chats/sessions") == (0.0, fault)
    assert faults.take("GET", "/api/v3/chats/sessions") == (0.0, None)
    assert fault.hits == 2
    assert faults.planned == []


def test_one_failure_per_request_oldest_first_and_delays_add_up() -> None:
    faults = FaultInjector()
    first = faults.fail_next("*", r"/x", status=500)
    second = faults.fail_next("GET", r"/x", status=429, delay=0.01)
    slow = faults.add_latency("GET", r"/x", 0.02, times=1)
    assert faults.take("GET", "/x") == (pytest.approx(0.02), first)
    assert faults.take("GET", "/x") == (pytest.approx(0.01), second)
    assert faults.take("GET", "/x") == (0.0, None)
    assert slow.hits == 1


def test_latency_until_cleared() -> None:
    faults = FaultInjector()
    faults.add_latency("*", r"/messages", 0.5)
    for _ in range(3):
        assert faults.take("DELETE", "/s/messages/r") == (0.5, None)
    faults.clear()
    assert faults.take("DELETE", "/s/messages/r") == (0.0, None)


def test_bodies() -> None:
    faults = FaultInjector()
    assert faults.fail_next("*", "a", status=502).content() == (
        b'{"message": "injected fault: 502"}',
        "application/json",
    )
    html = faults.fail_next("*", "a", status=503, body="<html>down</html>").content()
    assert html == (b"<html>down</html>", "text/html; charset=utf-8")
    assert faults.fail_next("*", "a", status=504, body="busy").content()[1].startswith("text/plain")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 200}, "error status"),
        ({"status": 503, "times": 0}, "times"),
        ({"status": 503, "delay": -1}, "delay"),
        ({"status": 503, "method": "FETCH"}, "method"),
        ({"status": 503, "path": "("}, "regular expression"),
        ({"status": 503, "delay": float("nan")}, "delay"),
        ({"status": 503, "delay": float("inf")}, "delay"),
        ({"status": 503, "retry_after": float("inf")}, "retry_after"),
        ({"status": 503, "retry_after": float("nan")}, "retry_after"),
        ({"status": 503, "retry_after": -1}, "retry_after"),
        ({"status": 503, "retry_after": 10**400}, "retry_after"),
    ],
)
def test_bad_faults_are_refused(kwargs: dict[str, object], message: str) -> None:
    args = {"method": "GET", "path": "/x", **kwargs}
    with pytest.raises(ValueError, match=message):
        FaultInjector().fail_next(args.pop("method"), args.pop("path"), **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"X-Note": "a\r\nX-Injected: 1"}},
        {"retry_after": "1\n"},
        {"headers": {"X": "\x00"}},
    ],
)
def test_a_header_with_a_line_break_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="line break"):
        FaultInjector().fail_next("GET", "/x", status=503, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"headers": {"X Bad": "v"}}, "not an HTTP token"),
        ({"headers": {"X:Bad": "v"}}, "not an HTTP token"),
        ({"headers": {"X-Price": "5 €"}}, "non-Latin-1"),
        ({"headers": {"X-Count": 5}}, "must be a string"),
        ({"body": {"x": float("nan")}}, "strict JSON"),
        ({"body": {"x": object()}}, "strict JSON"),
    ],
)
def test_a_fault_the_server_could_not_send_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultInjector().fail_next("GET", "/x", status=503, **kwargs)


@pytest.mark.parametrize(
    ("seconds", "header"),
    [(0, "0"), (0.1, "1"), (1.5, "2"), (3, "3"), (1234567, "1234567"), (1e9, "1000000000")],
)
def test_retry_after_is_sent_as_whole_seconds(seconds: float, header: str) -> None:
    fault = FaultInjector().fail_next("GET", "/x", status=429, retry_after=seconds)
    assert fault.headers == {"Retry-After": header}


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), -0.5])
def test_latency_must_be_finite(seconds: float) -> None:
    with pytest.raises(ValueError, match="finite number of seconds"):
        FaultInjector().add_latency("GET", "/x", seconds)


def test_plan_from_json() -> None:
    faults = FaultInjector()
    failure = faults.plan(
        {"method": "POST", "path": "/chats/folders$", "status": 429, "times": 2, "retryAfter": 3}
    )
    assert (failure.method, failure.status, failure.remaining) == ("POST", 429, 2)
    assert failure.headers == {"Retry-After": "3"}
    delay = faults.plan({"path": "/chats/", "latency": 0.25})
    assert (delay.method, delay.status, delay.delay, delay.remaining) == ("*", None, 0.25, None)
    assert delay.describe()["path"] == "/chats/"


@pytest.mark.parametrize(
    "spec",
    [
        {"status": 503},
        {"path": "/x"},
        {"path": "/x", "status": "503"},
        {"path": "/x", "latency": -1},
        {"path": "/x", "status": 503, "times": "2"},
        {"path": "/x", "status": 503, "headers": {"a": 1}},
        {"path": "/x", "status": 503, "retryAfter": [1]},
        {"path": "/x", "status": 503, "colour": "red"},
        {"path": "/x", "latency": float("inf")},
        {"path": "/x", "status": 503, "retryAfter": float("nan")},
    ],
)
def test_bad_plans_are_refused(spec: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        FaultInjector().plan(spec)
