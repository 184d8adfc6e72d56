"""The HTTP session: base URL, credentials, retries and error mapping over httpx."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from albert._async.auth import AsyncTokenProvider
from albert._backends import async_primitives as primitives
from albert._transports.async_default_transport import default_transport_options
from albert.auth.managers import AuthManager, resolve_auth_base_url
from albert.core.config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    build_headers,
    resolve_base_url,
    resolve_timeout,
    resolve_token,
    split_api_headers,
)
from albert.core.deadline import Deadline, resolve_total_timeout
from albert.core.logs import logger, setup_logging_from_env
from albert.core.responses import (
    closed_client_error,
    credentials_redactor,
    error_from_response,
    transport_error,
)
from albert.core.retry import AttemptState, RetryPolicy, may_have_applied, retry_reason
from albert.core.sentinels import NOT_GIVEN, NotGivenOr
from albert.exceptions import AlbertTimeoutError, NotFoundError, UnauthorizedError

__all__ = ["AsyncAlbertSession"]

TimeoutTypes = httpx.Timeout | float | None


class AsyncAlbertSession:
    """An authenticated HTTP session with the Albert API.

    Every request gets the base URL, the default headers and the
    ``Authorization`` header; failures that are safe to retry are retried with
    backoff, and error responses become typed exceptions.

    With an ``auth_manager``, the access token is fetched (client credentials
    through this session's HTTP client), cached, and refreshed a minute before
    it expires; concurrent requests share one refresh. A ``401`` answer makes
    the session refresh the token once and send the request once more.

    Parameters
    ----------
    base_url : str | None, optional
        The base URL of the Albert API. Falls back to the ``ALBERT_BASE_URL``
        environment variable, then to ``https://app.albertinvent.com``.
    token : str | None, optional
        A static JWT. Falls back to the ``ALBERT_TOKEN`` environment variable
        when no ``auth_manager`` is given.
    auth_manager : AlbertClientCredentials | AlbertSSOClient | None, optional
        Fetches and refreshes access tokens. Its ``base_url`` is the
        session's when ``base_url`` is left out, and must agree with it
        otherwise.
    headers : dict[str, str] | None, optional
        Extra headers sent with every request.
    timeout : httpx.Timeout | float | None, optional
        The timeout of each attempt; ``None`` disables it. Defaults to 60 s,
        with 10 s to connect. It bounds one attempt, not the call: with the
        default retries a call makes up to 4 attempts and waits up to 3 times
        between them (up to 60 s each when the server sends ``Retry-After``),
        about 180 s of waiting alone. Pass ``total_timeout`` to bound the call.
    max_retries : int, optional
        Retries after a failed attempt, when retrying is safe (default 3).
    total_timeout : float | None, optional
        Seconds one call may take in all, retries and waits included; ``None``
        (the default) sets no overall limit. A wait that would pass it is not
        taken, each attempt's timeouts are cut to the time left, and an answer
        still arriving when it passes is cut off; the call then raises
        `AlbertTimeoutError` saying ``total_timeout`` was reached.
    http_client : httpx.AsyncClient | None, optional
        An HTTP client to send requests with (proxies, certificates, transports).
        The session does not close a client it was given; each request gets
        the session's ``timeout``.
    limits : httpx.Limits | None, optional
        Connection pool limits of the client the session creates.
    httpx_transport : bool, optional
        Send with httpx's own transport (httpcore) instead of aiohttp's HTTP
        stack, the default on asyncio and uvloop (under trio, httpx's own
        transport is always used).

    Raises
    ------
    AlbertAuthError
        If there is neither a token (argument or environment) nor an
        ``auth_manager``.
    ValueError
        If the base URL is not an absolute http(s) URL, if both ``token`` and
        ``auth_manager`` are given, or if the manager's base URL differs from
        ``base_url``.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        auth_manager: AuthManager | None = None,
        headers: dict[str, str] | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        limits: httpx.Limits | None = None,
        total_timeout: float | None = None,
        httpx_transport: bool = False,
    ) -> None:
        setup_logging_from_env()
        self._headers = build_headers(headers)
        if auth_manager is None:
            self._base_url = resolve_base_url(base_url)
            # A static token costs nothing per request: it is one of the headers.
            self._headers["Authorization"] = f"Bearer {resolve_token(token)}"
        elif token is not None:
            raise ValueError("pass token= or auth_manager=, not both")
        else:
            self._base_url = resolve_auth_base_url(base_url, auth_manager)
        self.timeout = resolve_timeout(timeout)
        self.retry_policy = RetryPolicy(max_retries=max_retries)
        self.total_timeout = resolve_total_timeout(total_timeout)
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(
                f"http_client must be an httpx.AsyncClient, got {type(http_client).__name__}"
            )
        if http_client is not None and limits is not None:
            raise ValueError("pass limits to the http_client you build, not beside it")
        if http_client is not None and httpx_transport:
            raise ValueError("http_client= is used as given: httpx_transport= does not apply to it")
        self._owns_client = http_client is None
        if http_client is None:
            # The client made here carries the timeout and the headers any host
            # may see, so httpx has nothing to merge per request (about 20 us a
            # call). The token and the body type are set on each API request:
            # the client is public (`http_client`), and what it sends elsewhere
            # must not carry the token.
            shared, api_only = split_api_headers(self._headers)
            self._client = httpx.AsyncClient(
                headers=shared,
                timeout=self.timeout,
                follow_redirects=False,
                **default_transport_options(
                    limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
                    httpx_transport=httpx_transport,
                ),
            )
            self._merged_headers: dict[str, str] | None = None
            self._api_headers = tuple(api_only.items())
            self._client_timeout: httpx.Timeout | None = self.timeout
        else:
            self._client = http_client
            self._merged_headers = self._headers
            self._api_headers = ()
            self._client_timeout = None
        self._token_provider = (
            None
            if auth_manager is None
            else AsyncTokenProvider(auth_manager, session=self, headers=self._headers)
        )

    @property
    def base_url(self) -> str:
        """The base URL requests are sent to, without a trailing slash."""
        return self._base_url

    @property
    def max_retries(self) -> int:
        """Retries after a failed attempt, when retrying is safe."""
        return self.retry_policy.max_retries

    @property
    def token_provider(self) -> AsyncTokenProvider | None:
        """The provider of access tokens, with an ``auth_manager`` (shared by `with_options`)."""
        return self._token_provider

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The underlying httpx client (shared by sessions made with `with_options`)."""
        return self._client

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    def with_options(
        self,
        *,
        timeout: NotGivenOr[TimeoutTypes] = NOT_GIVEN,
        max_retries: int | None = None,
        total_timeout: NotGivenOr[float | None] = NOT_GIVEN,
    ) -> AsyncAlbertSession:
        """Return a session with other request options that shares this one's connections.

        Parameters
        ----------
        timeout : httpx.Timeout | float | None, optional
            The new timeout; left out, the current one is kept.
        max_retries : int | None, optional
            The new number of retries; left out, the current one is kept.
        total_timeout : float | None, optional
            The new overall limit of one call (``None``: no limit); left out,
            the current one is kept.

        Returns
        -------
        AsyncAlbertSession
            A session over the same connection pool and credentials (and the
            same token cache). Closing it does not close the pool; close the
            original session for that.
        """
        clone = copy.copy(self)
        clone._owns_client = False
        if timeout is not NOT_GIVEN:
            clone.timeout = resolve_timeout(timeout)
        if max_retries is not None:
            clone.retry_policy = replace(self.retry_policy, max_retries=max_retries)
        if total_timeout is not NOT_GIVEN:
            clone.total_timeout = resolve_total_timeout(total_timeout)
        return clone

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send a request, retrying when that is safe, and return the success response.

        Parameters
        ----------
        method : str
            The HTTP method.
        path : str
            The path below the base URL, already percent-encoded
            (for example ``/api/v3/chats/sessions/abc``).
        params : dict[str, Any] | None, optional
            Query parameters; a list value is repeated.
        json : Any, optional
            A JSON-serialisable body.
        idempotent : bool | None, optional
            ``True`` lets a POST be retried after a server error; ``None``
            decides by method.

        Returns
        -------
        httpx.Response
            A 2xx response (or a 404 answering the retry of a DELETE that an
            earlier attempt may have applied: the resource is gone).

        Raises
        ------
        AlbertHTTPError
            A subclass named for the error status, once retries are spent.
        AlbertConnectionError, AlbertTimeoutError
            When the transport failed, once retries are spent.
        AlbertTimeoutError
            When ``total_timeout`` is reached.
        """
        timeout = self.timeout
        deadline = None
        if self.total_timeout is not None:
            deadline = Deadline.starting(self.total_timeout, primitives.monotonic())
            timeout = deadline.attempt_timeout(timeout, primitives.monotonic())
        request = self._client.build_request(
            method,
            self._base_url + path,
            params=params,
            json=json,
            headers=self._merged_headers,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is self._client_timeout else timeout,
        )
        for name, value in self._api_headers:
            request.headers[name] = value
        state = AttemptState()
        try:
            return await self._attempt(request, 1, state, deadline)
        except Exception as exc:
            if not self.retry_policy.max_retries or not retry_reason(
                exc, method=method, idempotent=idempotent
            ):
                if deadline is not None and deadline.cut and isinstance(exc, AlbertTimeoutError):
                    raise _out_of_time(deadline, request, 1, exc) from exc
                raise
            first_failure = exc
        return await self._retry(request, first_failure, state, idempotent, deadline)

    async def _retry(
        self,
        request: httpx.Request,
        first_failure: Exception,
        state: AttemptState,
        idempotent: bool | None,
        deadline: Deadline | None,
    ) -> httpx.Response:
        # Most calls succeed at once, so the retry machinery is only built after
        # a first failure that may be retried; tenacity replays that failure as
        # its first attempt, then waits and counts as if it had made it.
        method = request.method
        policy = self.retry_policy
        # Each wait is drawn once (jitter), for the deadline check and the wait alike.
        waits: dict[int, float] = {}
        skipped: list[float] = []

        def wait(retry: RetryCallState) -> float:
            number = retry.attempt_number
            if number not in waits:
                waits[number] = policy.wait_seconds(number, _failure(retry))
            return waits[number]

        def stop(retry: RetryCallState) -> bool:
            if retry.attempt_number > policy.max_retries:
                return True
            if deadline is not None and not deadline.allows_wait(
                wait(retry), primitives.monotonic()
            ):
                skipped.append(wait(retry))
                return True
            return False

        retrying = AsyncRetrying(
            stop=stop,
            wait=wait,
            retry=retry_if_exception(
                lambda exc: retry_reason(exc, method=method, idempotent=idempotent) is not None
            ),
            sleep=primitives.sleep,
            before_sleep=lambda retry: _log_retry(retry, method, str(request.url), idempotent),
            reraise=True,
        )
        number = 1
        try:
            async for attempt in retrying:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    if number == 1:
                        raise first_failure
                    if deadline is not None:
                        cut = deadline.attempt_timeout(self.timeout, primitives.monotonic())
                        request.extensions["timeout"] = cut.as_dict()
                    return await self._attempt(request, number, state, deadline)
        except Exception as exc:
            if deadline is not None and deadline.cut and isinstance(exc, AlbertTimeoutError):
                raise _out_of_time(deadline, request, number, exc) from exc
            if deadline is not None and skipped:
                raise _out_of_time(deadline, request, number, exc, skipped[-1]) from exc
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _attempt(
        self,
        request: httpx.Request,
        number: int,
        state: AttemptState,
        deadline: Deadline | None = None,
    ) -> httpx.Response:
        """Send once (refreshing a rejected token once), and settle a DELETE already done."""
        try:
            try:
                return await self._send_once(request, number, deadline)
            except UnauthorizedError:
                # With an auth manager, a 401 means the token went stale
                # early (revoked, clock skew): refresh once, send once more.
                if self._token_provider is None or state.refreshed:
                    raise
                await self._refresh_rejected_token(request)
                # Counted once it worked: a refresh that failed (and is retried
                # with the attempt) has not replaced the rejected token yet.
                state.refreshed = True
                return await self._send_once(request, number, deadline)
        except NotFoundError as exc:
            if request.method == "DELETE" and state.maybe_applied and exc.response is not None:
                return exc.response  # an earlier attempt deleted it; its response was lost
            raise
        except Exception as exc:
            state.maybe_applied = state.maybe_applied or may_have_applied(exc)
            raise

    async def _refresh_rejected_token(self, request: httpx.Request) -> None:
        provider = self._token_provider
        assert provider is not None
        logger.info(
            "%s %s -> 401: refreshing the access token and sending once more",
            request.method,
            request.url,
        )
        rejected = request.headers.get("Authorization", "").removeprefix("Bearer ")
        await provider.refresh(rejected=rejected)

    async def _send_once(
        self, request: httpx.Request, attempt: int, deadline: Deadline | None = None
    ) -> httpx.Response:
        provider = self._token_provider
        if provider is not None:
            # Read per attempt: a retry after a wait may need a newer token.
            token = await provider.get_token()
            request.headers["Authorization"] = f"Bearer {token}"
        response = await self._transmit(request, attempt=attempt, deadline=deadline)
        if not response.is_success:
            raise error_from_response(response)
        return response

    async def _transmit(
        self,
        request: httpx.Request,
        *,
        attempt: int = 1,
        what: str = "",
        redact: Callable[[str], str] | None = None,
        deadline: Deadline | None = None,
    ) -> httpx.Response:
        """Send one request through the pool, failing with SDK errors: API and token requests alike.

        ``what`` names a request that is not an API call ("token request") in
        the log and in its errors; ``redact`` blanks secrets out of a transport
        error's text (by default the credentials of the ``Authorization`` header);
        ``deadline`` is the call's ``total_timeout``, which reading the answer
        must not pass.
        """
        started = primitives.monotonic()
        try:
            if deadline is None:
                response = await self._client.send(request)
            else:
                response = await self._send_before(request, deadline)
        except httpx.RequestError as exc:  # transport failures, and undecodable bodies
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %s after %.1f ms (%s)",
                    request.method,
                    request.url,
                    type(exc).__name__,
                    (primitives.monotonic() - started) * 1000,
                    what or f"attempt {attempt}",
                )
            raise transport_error(
                exc,
                method=request.method,
                url=str(request.url),
                prefix=f"{what}: " if what else "",
                redact=redact or credentials_redactor(request.headers.get("Authorization")),
            ) from exc
        except RuntimeError:
            if self._client.is_closed:
                raise closed_client_error(request.method, str(request.url)) from None
            raise
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms (%s)",
                request.method,
                request.url,
                response.status_code,
                (primitives.monotonic() - started) * 1000,
                what or f"attempt {attempt}",
            )
        return response

    async def _send_before(self, request: httpx.Request, deadline: Deadline) -> httpx.Response:
        """Send, and read the answer only for as long as the call's ``total_timeout`` lasts.

        Each read is bounded by the read timeout, but a server that trickles
        its answer, every piece within it, would hold the call for as long as
        it likes; so the body is read piece by piece, and one that arrives
        once the deadline has passed ends the attempt as a read timeout.
        """
        response = await self._client.send(request, stream=True)
        if response.is_stream_consumed:  # read whole by its transport (httpx.MockTransport)
            await response.aclose()
            return response
        try:
            raw = []
            async for piece in response.aiter_raw():
                raw.append(piece)
                if primitives.monotonic() >= deadline.ends_at:
                    deadline.cut = True  # timing out now means the deadline was reached
                    raise httpx.ReadTimeout(
                        "total_timeout was reached while the answer was arriving",
                        request=request,
                    )
        finally:
            await response.aclose()
        # What was read, still encoded as it came (gzip, say): decoded as httpx reads it.
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=b"".join(raw),
            request=request,
            extensions=response.extensions,
        )

    async def get(self, path: str, *, params: dict[str, Any] | None = None) -> httpx.Response:
        """Send a GET request; see `request`."""
        return await self.request("GET", path, params=params)

    async def post(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send a POST request; see `request`."""
        return await self.request("POST", path, params=params, json=json, idempotent=idempotent)

    async def patch(
        self, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        """Send a PATCH request; see `request`."""
        return await self.request("PATCH", path, params=params, json=json)

    async def delete(self, path: str, *, params: dict[str, Any] | None = None) -> httpx.Response:
        """Send a DELETE request; see `request`."""
        return await self.request("DELETE", path, params=params)

    async def aclose(self) -> None:
        """Close the connection pool, unless it was given or is shared with another session."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncAlbertSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _out_of_time(
    deadline: Deadline,
    request: httpx.Request,
    attempts: int,
    last: BaseException,
    wait: float | None = None,
) -> AlbertTimeoutError:
    return deadline.reached(
        method=request.method, url=str(request.url), attempts=attempts, last=last, wait=wait
    )


def _failure(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    return outcome.exception() if outcome is not None else None


def _log_retry(state: RetryCallState, method: str, url: str, idempotent: bool | None) -> None:
    # The request's URL, not the error's: a failed token request names the
    # token endpoint, but what is retried is the API request waiting for it.
    exc = _failure(state)
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    logger.warning(
        "retrying %s %s in %.2f s after attempt %d: %s",
        method,
        url,
        wait,
        state.attempt_number,
        retry_reason(exc, method=method, idempotent=idempotent) if exc else "unknown",
    )
