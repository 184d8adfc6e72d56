"""LocalAlbert: a real server on 127.0.0.1, started and stopped cleanly."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
import httpx
import pytest

from albert import Albert, AsyncAlbert
from albert.testing import EmulatorApp, LocalAlbert
from albert.testing.server import bind_socket


def _sessions(server: LocalAlbert) -> httpx.Response:
    return httpx.get(
        f"{server.base_url}/api/v3/chats/sessions",
        headers={"Authorization": f"Bearer {server.token}"},
    )


def test_serves_on_a_free_loopback_port_and_stops() -> None:
    before = threading.active_count()
    server = LocalAlbert()
    with pytest.raises(RuntimeError, match="start it first"):
        server.base_url  # noqa: B018
    with server:
        assert server.running
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.port > 0
        assert _sessions(server).json() == {"Items": []}
        assert server.env == {"ALBERT_BASE_URL": server.base_url, "ALBERT_TOKEN": server.token}
        assert "serving" in repr(server)
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        _sessions(server)
    assert threading.active_count() == before
    server.stop()  # twice is fine
    with pytest.raises(RuntimeError, match="starts once"):
        server.start()


def test_stopping_is_quick() -> None:
    server = LocalAlbert().start()
    assert _sessions(server).status_code == 200
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 0.5


def test_a_given_port_and_a_taken_one() -> None:
    holder = bind_socket()
    port = holder.getsockname()[1]
    holder.listen()
    try:
        with pytest.raises(OSError, match=r"in use|usage"):
            LocalAlbert(port=port).start()
    finally:
        holder.close()
    with LocalAlbert(port=port) as server:
        assert server.base_url.endswith(f":{port}")


def test_options_reach_the_app() -> None:
    with LocalAlbert(token="t0k", page_size=3, client_credentials={"id": "secret"}) as server:
        assert (server.token, server.app.page_size) == ("t0k", 3)
        assert server.app.client_credentials == {"id": "secret"}
        assert server.faults is server.app.faults


def test_serving_an_existing_app_leaves_it_open() -> None:
    app = EmulatorApp(token="mine")
    with LocalAlbert(app=app) as server:
        assert server.token == "mine"
    app.store.put("session", "still", {})  # not closed
    with pytest.raises(ValueError, match="either app"):
        LocalAlbert(app=app, token="other")
    with pytest.raises(ValueError, match="either app"):
        LocalAlbert(app=app, page_size=5)  # the app's page_size is its own
    with pytest.raises(ValueError, match="port"):
        LocalAlbert(port=70000)


def test_a_crash_leaves_the_connection_open_for_the_next_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        LocalAlbert() as server,
        httpx.Client(
            base_url=f"{server.base_url}/api/v3",
            headers={"Authorization": f"Bearer {server.token}"},
        ) as http,
    ):
        scan = server.app.store.scan
        for attempt in range(3):
            monkeypatch.setattr(server.app.store, "scan", lambda *args, **kwargs: 1 / 0)
            crashed = http.get("/chats/sessions")
            assert crashed.status_code == 500
            assert crashed.json() == {
                "message": "the emulator failed: ZeroDivisionError: division by zero"
            }
            monkeypatch.setattr(server.app.store, "scan", scan)
            created = http.post("/chats/sessions", json={"name": "n", "sourceSessionId": "s"})
            assert created.status_code == 201, attempt


def test_the_client_factories() -> None:
    with LocalAlbert() as server:
        with server.client(max_retries=0) as client:
            assert isinstance(client, Albert)
            assert client.base_url == server.base_url
            assert list(client.chat_sessions.get_all()) == []
        aclient = server.async_client()
        assert isinstance(aclient, AsyncAlbert)
        assert aclient.base_url == server.base_url
        anyio.run(aclient.aclose)


def test_a_sqlite_file_keeps_data_and_token_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "albert.db"
    with LocalAlbert(db_path=db) as first:
        token = first.token
        created = httpx.post(
            f"{first.base_url}/api/v3/chats/sessions",
            json={"name": "kept", "sourceSessionId": "k"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    with LocalAlbert(db_path=db) as second:
        assert second.token == token  # remembered: clients keep working
        assert [s["id"] for s in _sessions(second).json()["Items"]] == [created["id"]]


def test_connections_to_a_bound_socket_send_without_delay_on_plain_asyncio() -> None:
    # uvicorn serves on plain asyncio where uvloop is not installed (the
    # `testing` extra does not pull it in). asyncio turns Nagle's algorithm off
    # only for connections accepted on a TCP-protocol socket; with it on, each
    # response waited ~40 ms for the client's delayed ACK.
    import asyncio
    import socket

    async def accepted_nodelay() -> int:
        sock = bind_socket()
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            conn = writer.get_extra_info("socket")
            seen.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=sock)
        async with server:
            port = sock.getsockname()[1]
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            result = await asyncio.wait_for(seen, 5)
            writer.close()
        return result

    assert asyncio.run(accepted_nodelay()) != 0
