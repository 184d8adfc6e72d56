"""How the integration ships: nothing of it on ``import albert``, extras named when missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


HEAVY = (
    "albert.integrations",
    "assistant_stream",
    "assistant_ui",
    "httpx_sse",
    "starlette",
    "fastapi",
)


def test_import_albert_loads_none_of_the_integration() -> None:
    result = _python(
        f"""
        import sys, albert, albert.testing, albert.cli
        from albert import Albert, AsyncAlbert
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_the_clients_load_no_sse_parser_nor_the_peer_nor_assistant_stream_until_needed() -> None:
    result = _python(
        """
        import sys
        from albert.integrations.assistant_ui import AssistantClient, AsyncAssistantClient
        from albert.integrations.assistant_ui import compat, save_thread, to_assistant_ui
        import albert.testing.app
        AssistantClient("http://127.0.0.1:9").close()
        lazy = ("httpx_sse", "assistant_ui", "assistant_stream")
        print(sorted(m for m in lazy if m in sys.modules))
        """
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_without_httpx_sse_reading_an_event_stream_names_the_extra() -> None:
    result = _python(
        """
        import sys
        sys.modules["httpx_sse"] = None  # as if it were not installed
        import respx
        from albert.integrations.assistant_ui import AssistantClient
        with respx.mock:
            respx.post("http://backend.test/api/chat").respond(
                200, text="data: [DONE]\\n\\n", headers={"content-type": "text/event-stream"}
            )
            response = AssistantClient("http://backend.test").threads("t").chat()
            try:
                response.final_messages()
            except ImportError as exc:
                print(type(exc).__name__, exc)
            print("closed" if response.http_response.is_closed else "open")
        """
    )
    assert result.stdout.splitlines() == [
        "ImportError reading an assistant-transport stream (text/event-stream) needs httpx-sse, "
        "from the 'assistant-ui' extra: pip install 'albert-chat[assistant-ui]'",
        "closed",
    ], result.stderr


def test_without_assistant_stream_the_emulators_chat_route_says_what_to_install() -> None:
    result = _python(
        """
        import sys, asyncio, httpx
        sys.modules["assistant_stream"] = None
        from albert.testing import EmulatorApp

        async def main():
            app = EmulatorApp(token="t")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://e") as http:
                response = await http.post(
                    "/api/chat", json={"threadId": "x"}, headers={"Authorization": "Bearer t"}
                )
            print(response.status_code, response.json()["message"])

        asyncio.run(main())
        """
    )
    assert result.stdout.strip() == (
        "501 the emulator's assistant-ui backend needs assistant-stream, from the 'testing' "
        "extra: pip install 'albert-chat[testing]'"
    ), result.stderr
