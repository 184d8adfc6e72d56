"""The albert-chat command: serve, export; a failure is one line, no traceback.

The demo's tests are in test_cli_demo.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from albert import cli
from albert.resources.chats import ChatFlagType, ChatMessage, ChatSession
from albert.testing import LocalAlbert
from albert.testing.server import bind_socket


def _command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "albert.cli", *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), **(env or {})},
        timeout=60,
        check=False,
    )


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("albert-chat: error: ")
    for needle in needles:
        assert needle in lines[0]


# ---- serve --------------------------------------------------------------------


def test_serve_prints_the_url_and_token_and_serves_until_terminated(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    command = [sys.executable, "-m", "albert.cli", "serve", "--port", "0", "--db", str(db)]
    command += ["--token", "t0k", "--page-size", "1"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(5)]
            base_url = lines[0].strip().rpartition(" ")[2]
            assert base_url.startswith("http://127.0.0.1:")
            assert f"export ALBERT_BASE_URL={base_url}\n" in [line.lstrip() for line in lines]
            assert "  export ALBERT_TOKEN=t0k\n" in lines
            auth = {"Authorization": "Bearer t0k"}
            # the socket is bound before the URL is printed: a connection waits in the backlog
            created = httpx.post(
                f"{base_url}/api/v3/chats/sessions",
                json={"name": "n", "sourceSessionId": "s"},
                headers=auth,
                timeout=10,
            )
            assert created.status_code == 201
            assert httpx.get(f"{base_url}/api/v3/chats/sessions", headers=auth).json() == {
                "Items": [created.json()]
            }
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert out.strip().endswith("Albert emulator stopped.")
    assert "Traceback" not in err
    with LocalAlbert(db_path=db) as again:  # the file is complete: restart loses nothing
        assert again.token == "t0k"
        assert len(again.app.store.all("session")) == 1


@contextlib.contextmanager
def _serving(*options: str) -> Iterator[tuple[str, list[str]]]:
    """Run ``albert-chat serve`` with options; yield its URL and what it printed first."""
    command = [sys.executable, "-m", "albert.cli", "serve", "--port", "0", *options]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            lines = []
            while not lines or not lines[-1].startswith("Data is kept"):
                line = process.stdout.readline()
                assert line, process.stderr.read() if process.stderr else ""
                lines.append(line.rstrip("\n"))
            yield lines[0].rpartition(" ")[2], lines
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=10)


def _exported(lines: list[str]) -> dict[str, str]:
    pairs = (line.strip().removeprefix("export ").partition("=") for line in lines)
    return {name: value for name, _, value in pairs if name.startswith("ALBERT_")}


def test_serve_without_credentials_makes_and_prints_its_own(tmp_path: Path) -> None:
    with _serving() as (base_url, lines):
        printed = _exported(lines)
        assert printed["ALBERT_CLIENT_ID"] == "albert-local"
        assert printed["ALBERT_CLIENT_SECRET"] != "albert-local-secret"
        form = {
            "grant_type": "client_credentials",
            "client_id": printed["ALBERT_CLIENT_ID"],
            "client_secret": printed["ALBERT_CLIENT_SECRET"],
        }
        token = httpx.post(f"{base_url}/api/v3/login/oauth/token", data=form, timeout=10)
        assert token.status_code == 200
        auth = {"Authorization": f"Bearer {printed['ALBERT_TOKEN']}"}
        assert httpx.get(f"{base_url}/api/v3/chats/sessions", headers=auth).status_code == 200
        assert not any("SSO" in line for line in lines)


def test_serve_with_a_token_accepts_only_what_it_was_started_with() -> None:
    options = ["--token", "t0k", "--sso-email", "ada@example.com", "--max-body-size", "1K"]
    with _serving(*options) as (base_url, lines):
        assert set(_exported(lines)) == {"ALBERT_BASE_URL", "ALBERT_TOKEN"}
        assert "SSO logins (no password asked): ada@example.com" in lines
        api = f"{base_url}/api/v3"
        for client_id, secret in [("albert-local", "albert-local-secret"), ("albert-local", "")]:
            form = {"grant_type": "client_credentials", "client_id": client_id}
            refused = httpx.post(
                f"{api}/login/oauth/token", data={**form, "client_secret": secret}, timeout=10
            )
            assert refused.status_code == 401
        for email, status in [("eve@example.com", 404), ("ada@example.com", 302)]:
            login = httpx.get(
                f"{api}/login", params={"source": "sdk", "email": email, "port": "5123"}
            )
            assert login.status_code == status
        reset = httpx.post(f"{base_url}/_emulator/reset", headers={"Authorization": "Bearer x"})
        assert reset.status_code == 401
        big = httpx.post(
            f"{api}/chats/sessions",
            json={"name": "n" * 2000, "sourceSessionId": "s"},
            headers={"Authorization": "Bearer t0k"},
        )
        assert big.status_code == 413


@pytest.mark.parametrize(
    ("text", "size"), [("1048576", 1048576), ("512K", 524288), ("10M", 10485760), ("1GiB", 1 << 30)]
)
def test_byte_sizes(text: str, size: int) -> None:
    from albert.cli.serve import byte_size

    assert byte_size(text) == size


def test_serve_on_a_taken_port_is_a_one_line_error() -> None:
    holder = bind_socket()
    holder.listen()
    try:
        result = _command("serve", "--port", str(holder.getsockname()[1]))
    finally:
        holder.close()
    _assert_one_line_error(result)


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--port", "-1"],
        ["serve", "--page-size", "0"],
        ["serve", "--max-body-size", "0"],
        ["serve", "--max-body-size", "ten"],
    ],
)
def test_bad_serve_options_are_usage_errors(args: list[str]) -> None:
    result = _command(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_serve_urls() -> None:
    from albert.cli.serve import base_url_for

    assert base_url_for("0.0.0.0", 1) == "http://127.0.0.1:1"
    assert base_url_for("::", 2) == "http://[::1]:2"
    assert base_url_for("::1", 3) == "http://[::1]:3"
    assert base_url_for("localhost", 4) == "http://localhost:4"


# ---- export ---------------------------------------------------------------------


def _conversation(server: LocalAlbert, messages: int) -> str:
    with server.client() as client:
        session = client.chat_sessions.create(
            session=ChatSession(name="Export me", source_session_id="x")
        )
        sid = session.id or ""
        created = [
            client.chat_messages.create(
                message=ChatMessage.model_validate(
                    {
                        "parentId": sid,
                        "sourceRequestId": "answer",
                        "sequence": f"{i:03d}",
                        "componentType": "text" if i % 2 else "tool_call",
                        "userType": "system",
                        "role": "assistant",
                        "Content": f"line {i}" if i % 2 else {"tool": "t", "i": i},
                    }
                )
            )
            for i in range(messages)
        ]
        client.chat_flags.add(
            session_id=sid,
            source_request_id=created[1].source_request_id or "",
            sequence=created[1].sequence or "",
            type=ChatFlagType.STARRED,
        )
    return sid


def test_export_json_and_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with LocalAlbert(page_size=2) as server:
        sid = _conversation(server, 5)
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        out = tmp_path / "export.json"
        assert cli.main(["export", sid, "--format", "json", "--out", str(out)]) == 0
        assert f"exported 5 messages of {sid} to {out}" in capsys.readouterr().err
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["session"]["name"] == "Export me"
        assert [m["sequence"] for m in data["messages"]] == ["000", "001", "002", "003", "004"]
        assert [m["starred"] for m in data["messages"]] == [False, True, False, False, False]
        assert data["messages"][0]["Content"] == {"tool": "t", "i": 0}

        assert cli.main(["export", sid]) == 0
        markdown = capsys.readouterr().out
    assert markdown.startswith("# Export me\n")
    assert "## #001 assistant · text ★\n\n```text\nline 1\n```\n" in markdown
    assert '```json\n{\n  "tool": "t",\n  "i": 0\n}\n```' in markdown


def test_export_from_the_emulators_file_with_local(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "chat.db"
    with LocalAlbert(db_path=db) as server:
        sid = _conversation(server, 2)
    assert cli.main(["export", sid, "--local", "--db", str(db), "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["messages"]) == 2


def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_export_from_the_emulators_file_does_not_write_to_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "chat.db"
    with LocalAlbert(db_path=db) as server:
        sid = _conversation(server, 3)
        token = server.token
    before = _snapshot(db)
    assert cli.main(["export", sid, "--local", "--db", str(db), "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["messages"]) == 3
    assert _snapshot(db) == before
    with LocalAlbert(db_path=db) as again:
        assert again.token == token  # not replaced by the export's own


def test_export_from_a_file_that_an_emulator_is_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "chat.db"
    with LocalAlbert(db_path=db) as server:
        sid = _conversation(server, 2)
        assert cli.main(["export", sid, "--local", "--db", str(db), "--format", "json"]) == 0
        assert len(json.loads(capsys.readouterr().out)["messages"]) == 2
        with server.client() as client:  # the server still writes, and reads its own
            session = client.chat_sessions.create(
                session=ChatSession(name="after", source_session_id="after")
            )
            assert client.chat_sessions.get_by_id(id=session.id or "").name == "after"


def _foreign_database(path: Path) -> None:
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO users (name) VALUES ('ada')")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    "content", ["sqlite", b"", b"just some text\n", b"SQLite format 3\x00" + b"\x00" * 200]
)
def test_export_of_a_file_that_is_not_the_emulators_is_one_line_and_writes_nothing(
    tmp_path: Path, content: str | bytes
) -> None:
    path = tmp_path / "other.db"
    if content == "sqlite":
        _foreign_database(path)
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    before = _snapshot(path)
    result = _command("export", "ses-1", "--local", "--db", str(path))
    _assert_one_line_error(result, str(path), "not an albert-chat emulator database")
    assert _snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no -wal, no -shm


def test_serving_a_file_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    _foreign_database(path)
    before = _snapshot(path)
    result = _command("serve", "--port", "0", "--db", str(path))
    _assert_one_line_error(result, "not an albert-chat emulator database", "users")
    assert _snapshot(path) == before


def test_export_local_defaults_to_the_serve_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from albert.cli import export

    monkeypatch.setenv("ALBERT_TOKEN", "t")
    with export._client(local=True) as client:
        assert client.base_url == "http://127.0.0.1:8765"
    monkeypatch.setenv("ALBERT_BASE_URL", "http://127.0.0.1:9999")
    with export._client(local=True) as client:
        assert client.base_url == "http://127.0.0.1:9999"


def test_export_with_client_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalAlbert() as server:
        sid = _conversation(server, 2)
        monkeypatch.setenv("ALBERT_BASE_URL", server.base_url)
        [(client_id, secret)] = server.client_credentials.items()
        monkeypatch.setenv("ALBERT_CLIENT_ID", client_id)
        monkeypatch.setenv("ALBERT_CLIENT_SECRET", secret)
        with cli.export._client(local=False) as client:
            assert len(cli.export.export_session(client, sid).messages) == 2


def test_export_shows_tqdms_bar_with_progress_and_nothing_without(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalAlbert(page_size=2) as server:
        sid = _conversation(server, 5)
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        assert cli.main(["export", sid, "--progress"]) == 0
        shown = capsys.readouterr()
        assert cli.main(["export", sid, "--no-progress"]) == 0
        silent = capsys.readouterr()
        assert cli.main(["export", sid]) == 0  # standard error is not a terminal here
        default = capsys.readouterr()
    assert "exporting Export me: " in shown.err
    assert "5 messages" in shown.err.rsplit("\r", 1)[-1]  # tqdm's last frame
    assert silent.err == default.err == ""
    assert shown.out == silent.out == default.out


def test_export_with_progress_without_tqdm_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setenv("ALBERT_TOKEN", "t")
    assert cli.main(["export", "ses-1", "--progress", "--local"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'albert-chat[notebook]'" in err
    assert len(err.strip().splitlines()) == 1


def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "export.md"
    with LocalAlbert() as server:
        result = _command("export", "ses-none", "--out", str(out), env=server.env)
    _assert_one_line_error(result, "404")
    assert list(tmp_path.iterdir()) == []


def test_export_of_an_unknown_session_is_one_line_and_no_traceback() -> None:
    with LocalAlbert() as server:
        result = _command("export", "ses-none", env=server.env)
    _assert_one_line_error(result, "404", "ses-none", "not found")


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["export", "s"], {}, "ALBERT_TOKEN"),
        (["export", "s", "--local"], {}, "ALBERT_TOKEN that 'albert-chat serve' printed"),
        (["export", "s", "--db", "x.db"], {}, "--local"),
        (["export", "s", "--local", "--db", "missing.db"], {}, "no emulator database"),
        (["export", "s", "--out", "/no/such/dir/x.md", "--local", "--db", "DB"], {}, "/no/such"),
    ],
)
def test_export_errors_are_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], needle: str
) -> None:
    if "DB" in args:
        db = tmp_path / "chat.db"
        with LocalAlbert(db_path=db) as server:
            sid = _conversation(server, 2)
        args = [sid if a == "s" else str(db) if a == "DB" else a for a in args]
    result = _command(*args, env={**env, "ALBERT_LOG": ""})
    _assert_one_line_error(result, needle)


def test_an_unreachable_service_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from albert._backends import sync_primitives

    waits: list[float] = []
    monkeypatch.setattr(sync_primitives, "sleep", waits.append)
    with bind_socket() as sock:  # bound, never listening, then closed: refused
        port = sock.getsockname()[1]
    monkeypatch.setenv("ALBERT_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("ALBERT_TOKEN", "t")
    assert cli.main(["export", "s", "--local"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("albert-chat: error: ")
    assert f"127.0.0.1:{port}" in err
    assert len(err.strip().splitlines()) == 1
    assert len(waits) == 3  # connecting is retried (nothing was sent), then it gives up


def test_debug_shows_the_traceback() -> None:
    result = _command("--debug", "export", "s")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_help_and_version_load_neither_httpx_nor_the_emulator() -> None:
    probe = (
        "import sys\n"
        "from albert.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('httpx', 'starlette', 'uvicorn') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip().endswith("[]")
    for command in ("serve", "demo", "export"):
        assert command in result.stdout
    version = _command("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("albert-chat ")


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / ("albert-chat.exe" if os.name == "nt" else "albert-chat")
    assert script.exists()
    started = time.perf_counter()
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert time.perf_counter() - started < 30


def test_export_shows_progress_by_default_only_on_a_terminal_with_tqdm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from albert.cli import export

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # the export goes to a pipe
    assert export._show_progress(None, to_file=False) is True
    assert export._show_progress(False, to_file=False) is False
    monkeypatch.setattr(sys, "stdout", Terminal())  # the export is printed on the terminal:
    assert export._show_progress(None, to_file=False) is False  # no bar across its lines
    assert export._show_progress(None, to_file=True) is True  # --out: the terminal is free
    assert export._show_progress(True, to_file=False) is True
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert export._show_progress(None, to_file=True) is False  # no tqdm: no bar, and no error
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert export._show_progress(None, to_file=True) is False


def _on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run ``albert-chat`` with its standard output and error on a pseudo-terminal."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "albert.cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
            env={**os.environ, **env},
            cwd=cwd,
        )
        os.close(follower)
        follower = -1
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=60) == 0, output
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    return output.decode("utf-8")


def test_export_on_a_terminal_shows_its_bar_only_when_the_text_goes_elsewhere(
    tmp_path: Path,
) -> None:
    pytest.importorskip("tqdm")
    pytest.importorskip("termios")  # a pseudo-terminal: POSIX only
    with LocalAlbert(page_size=2) as server:
        sid = _conversation(server, 5)
        printed = _on_a_terminal(["export", sid], server.env, tmp_path)
        to_file = _on_a_terminal(["export", sid, "--out", "x.md"], server.env, tmp_path)

    assert printed.startswith("# Export me\r\n")
    assert "exporting" not in printed  # no bar drawn across the Markdown
    assert "exporting Export me: " in to_file
    assert f"exported 5 messages of {sid} to x.md" in to_file
    assert (tmp_path / "x.md").read_text(encoding="utf-8").startswith("# Export me\n")


def test_export_into_a_pipe_closed_early_ends_quietly(tmp_path: Path) -> None:
    with LocalAlbert(page_size=2) as server:
        sid = _conversation(server, 40)
        process = subprocess.Popen(
            [sys.executable, "-m", "albert.cli", "export", sid, "--no-progress"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **server.env},
        )
        assert process.stdout is not None
        assert process.stdout.readline() == b"# Export me\n"  # `| head -1`
        process.stdout.close()
        _, stderr = process.communicate(timeout=60)

    assert process.returncode == 1
    assert stderr == b""  # neither "Broken pipe" nor a traceback
