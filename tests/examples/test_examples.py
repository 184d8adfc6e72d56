"""The examples in examples/, run against the emulator as a user would run them.

The notebook in a real Jupyter kernel (nbclient, ipykernel), the FastAPI
service under its test client and under uvicorn on a loopback socket, the
scripts as subprocesses.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from albert.testing import LocalAlbert

# Starlette's TestClient (FastAPI's) would rather run on its httpx fork; httpx works.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[LocalAlbert]:
    with LocalAlbert(page_size=3) as local:
        yield local


@pytest.fixture(scope="module")
def seeded(server: LocalAlbert) -> dict[str, Any]:
    """What ``examples/seed_emulator.py`` made: ``{"folder": id, "sessions": [ids]}``."""
    done = run("seed_emulator.py", env=server.env)
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    [folder] = [value for kind, value in lines if kind == "folder"]
    sessions = [value for kind, value in lines if kind == "session"]
    assert len(sessions) == 2
    return {"folder": folder, "sessions": sessions}


# ---- the notebook ----------------------------------------------------------------------


def outputs_of(notebook: Any) -> list[dict[str, Any]]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_core's paths notice
def test_the_notebook_lists_reads_and_exports_in_a_real_kernel(
    server: LocalAlbert, seeded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    notebook = nbformat.read(EXAMPLES / "notebook" / "chat_sessions.ipynb", as_version=4)
    assert not outputs_of(notebook), "commit the notebook without outputs"

    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()

    outputs = outputs_of(notebook)
    assert not [out for out in outputs if out.output_type == "error"]
    html = "\n".join(out.get("data", {}).get("text/html", "") for out in outputs)
    assert "Cure speed 1" in html  # the table of sessions, and the transcript
    assert 'class="albert-transcript"' in html
    assert "<details" in html  # reasoning, folded away
    assert '<img src="data:image/png;base64,' in html
    assert "tool call: search_formulations" in html
    widgets = [
        out for out in outputs if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
    ]
    assert len(widgets) >= 3  # tqdm's notebook bar: the listing, the transcript, the export
    state = notebook.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    bars = [w["state"] for w in state.values() if w["model_name"] == "FloatProgressModel"]
    assert len(bars) == len(widgets)
    for bar in bars:  # each ended full and green: 2 sessions of max_items=20 is done, not 10%
        assert (bar["bar_style"], bar["value"]) == ("success", bar["max"]), bar
    [exported] = list(tmp_path.glob("*.md"))
    text = exported.read_text(encoding="utf-8")
    assert text.startswith("# Cure speed")
    assert " ★\n" in text


# ---- the FastAPI service ---------------------------------------------------------------


@pytest.fixture
def service() -> ModuleType:
    return load(EXAMPLES / "fastapi_service" / "app.py")


def test_the_service_lists_and_reads_sessions_and_closes_its_client(
    server: LocalAlbert, seeded: dict[str, Any], service: ModuleType
) -> None:
    from fastapi.testclient import TestClient

    made: list[Any] = []

    def make() -> Any:
        made.append(server.async_client(max_retries=0))
        return made[-1]

    sid = seeded["sessions"][0]
    with TestClient(service.create_app(make)) as http:
        listed = http.get("/sessions", params={"limit": 200})
        one = http.get(f"/sessions/{sid}")
        first = http.get(f"/sessions/{sid}/messages", params={"limit": 5})
        rest = http.get(f"/sessions/{sid}/messages", params={"start_key": first.json()["next_key"]})
        export = http.get(f"/sessions/{sid}/export")
        as_json = http.get(f"/sessions/{sid}/export", params={"format": "json"})
        assert not made[0].session.http_client.is_closed

    assert listed.status_code == 200
    assert set(seeded["sessions"]) <= {s["id"] for s in listed.json()["items"]}
    assert listed.json()["next_key"] is None
    assert one.json()["name"] == "Cure speed 1"
    assert one.json()["parent_id"] == seeded["folder"]  # Python names, this service's own API
    assert len(first.json()["items"]) == 5
    assert [m["sequence"] for m in rest.json()["items"]] == ["004", "005", "006"]
    assert rest.json()["next_key"] is None
    assert export.headers["content-type"] == "text/markdown; charset=utf-8"
    assert export.text.startswith("# Cure speed 1\n")
    assert "★" in export.text
    assert len(json.loads(as_json.text)["messages"]) == 8
    assert made[0].session.http_client.is_closed  # the lifespan closed it


@pytest.mark.parametrize(
    ("fault", "status", "headers"),
    [
        ({"status": 429, "retry_after": 7}, 503, {"retry-after": "7"}),
        ({"status": 401}, 502, {}),
        ({"status": 403}, 502, {}),
        ({"status": 500}, 502, {}),
        ({"status": 503}, 502, {}),
        ({"status": 502, "body": "<html>bad gateway</html>"}, 502, {}),
        ({"status": 400}, 422, {}),
    ],
)
def test_the_service_maps_the_apis_errors_to_its_own_statuses(
    server: LocalAlbert,
    seeded: dict[str, Any],
    service: ModuleType,
    fault: dict[str, Any],
    status: int,
    headers: dict[str, str],
) -> None:
    from fastapi.testclient import TestClient

    sid = seeded["sessions"][0]
    with TestClient(service.create_app(lambda: server.async_client(max_retries=0))) as http:
        server.faults.fail_next("GET", rf"/chats/sessions/{sid}$", **fault)
        answer = http.get(f"/sessions/{sid}")
        missing = http.get("/sessions/ses-nobody")
        unknown = http.get(f"/sessions/{'ses-nobody'}/export")
        bad = http.get("/sessions", params={"limit": 0})
        refused = http.get("/sessions", params={"start_key": ""})  # refused by the SDK
    server.faults.clear()

    assert answer.status_code == status, answer.text
    assert headers.items() <= answer.headers.items()
    assert answer.json()["detail"]
    assert answer.json().get("albert_request_id")  # the emulator sends one
    assert missing.status_code == 404
    assert unknown.status_code == 404  # checked before the export starts streaming
    assert bad.status_code == 422
    assert refused.status_code == 422
    assert "start_key" in refused.json()["detail"]


def test_the_service_maps_transport_failures(
    server: LocalAlbert, seeded: dict[str, Any], service: ModuleType
) -> None:
    from fastapi.testclient import TestClient

    from albert import AsyncAlbert

    with socket.socket() as sock:  # bound, never listening, then closed: refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = service.create_app(
        lambda: AsyncAlbert(base_url=f"http://127.0.0.1:{port}", token="t", max_retries=0)
    )
    slow = service.create_app(lambda: server.async_client(max_retries=0, timeout=0.2))
    with TestClient(dead) as http:
        refused = http.get("/sessions")
    with TestClient(slow) as http:
        server.faults.add_latency("GET", r"/chats/sessions$", 1.0)
        late = http.get("/sessions")
    server.faults.clear()

    assert refused.status_code == 502
    assert refused.json()["detail"] == "the Albert API could not be reached"
    assert late.status_code == 504


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_the_service_under_uvicorn_on_a_socket(server: LocalAlbert, seeded: dict[str, Any]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "app:app",
            "--app-dir", str(EXAMPLES / "fastapi_service"),
            "--host", "127.0.0.1", "--port", str(port),
        ],
        env={**os.environ, **server.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                listed = httpx.get(f"{base}/sessions", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.1)
        one = httpx.get(f"{base}/sessions/{seeded['sessions'][1]}", timeout=5)
        missing = httpx.get(f"{base}/sessions/ses-nobody", timeout=5)
        with httpx.stream("GET", f"{base}/sessions/{seeded['sessions'][1]}/export") as export:
            pieces = list(export.iter_text())
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)

    assert listed.status_code == 200
    assert one.json()["name"] == "Cure speed 2"
    assert missing.status_code == 404
    assert export.headers["content-type"] == "text/markdown; charset=utf-8"
    assert "".join(pieces).startswith("# Cure speed 2\n")
    assert "".join(pieces).endswith("8 messages, 1 starred.\n")
    assert process.returncode == 0, stderr
    assert "Application shutdown complete" in stderr
    assert "Traceback" not in stderr
    assert "Unclosed" not in stderr


# ---- the scripts -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_export_folder_writes_a_file_per_session(
    server: LocalAlbert, seeded: dict[str, Any], tmp_path: Path, fmt: str
) -> None:
    done = run("export_folder.py", seeded["folder"], str(tmp_path), "--format", fmt, env=server.env)

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"exported 2 sessions of {seeded['folder']} to {tmp_path}\n"
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"{sid}.{fmt}" for sid in seeded["sessions"])
    first = (tmp_path / f"{seeded['sessions'][0]}.{fmt}").read_text(encoding="utf-8")
    if fmt == "json":
        data = json.loads(first)
        assert len(data["messages"]) == 8
        assert [m["starred"] for m in data["messages"]].count(True) == 1
    else:
        assert first.startswith("# Cure speed 1\n")


def test_export_folder_with_progress_and_with_bad_credentials(
    server: LocalAlbert, seeded: dict[str, Any], tmp_path: Path
) -> None:
    shown = run("export_folder.py", seeded["folder"], str(tmp_path), "--progress", env=server.env)
    refused = run(
        "export_folder.py",
        seeded["folder"],
        str(tmp_path / "x"),
        env={**server.env, "ALBERT_TOKEN": "wrong"},
    )

    assert shown.returncode == 0, shown.stderr
    assert "exporting: " in shown.stderr
    assert "2/2" in shown.stderr
    assert refused.returncode == 1
    assert refused.stderr.startswith("export_folder: 401 GET ")
    assert "wrong" not in refused.stderr  # no token in an error text
