"""Fill an Albert API (the local emulator, say) with a folder of sample conversations.

    albert-chat serve --db chat.db          # in another terminal; export what it prints
    python examples/seed_emulator.py        # then run the notebook or the other examples

Uses the sync `Albert` client with ``ALBERT_BASE_URL`` and ``ALBERT_TOKEN`` from
the environment. Each conversation is two requests, as a chat front end
writes them: the user's question (``000``), then the assistant's answer as
several components of one request (reasoning, a tool call, text, an image,
a product card, a citation, an error: ``000`` to ``006``); the answer's text
is starred. Prints the folder's id and the sessions' ids.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from albert import Albert
from albert.resources.chats import ChatFlagType, ChatFolder, ChatMessage, ChatSession

#: A small bar chart (96x48 PNG) as a data URL: an image the notebook shows without the network.
CHART = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAGAAAAAwCAIAAABhdOiYAAAAdklEQVR42u3aoRHA"
    "IBREQXxM+qExbFIIfVAY2MRHwMx3GfbNVbD60qNpCQEgQIAAAQIE6Gf1eoQHCBAgQIAAAdobKN8jPECAAAEC"
    "BAgQIECAAAECBAgQIECAvp3tCg8QIECAAAECBAgQIECAAAHaG6homp/0ohdOv0F1t8Bt2wAAAABJRU5ErkJggg=="
)

#: The assistant's answer: (component type, content).
ANSWER: list[tuple[str, str | dict[str, Any]]] = [
    ("reasoning_block", {"steps": ["compare gel times at 25 °C", "keep resins with Tg > 60 °C"]}),
    ("tool_call", {"tool": "search_formulations", "arguments": {"cure": "room temperature"}}),
    ("text", "Resin B gels in 4 minutes at 25 °C (2 mm film)."),
    ("image", {"url": CHART, "alt": "gel time per resin"}),
    ("product_card", {"name": "Resin B", "sku": "RB-25", "gel_time_min": 4, "tg_c": 65}),
    ("document_citation", {"title": "Gel times of epoxy resins", "url": "https://example.com/gel"}),
    ("error", {"code": "TOOL_TIMEOUT", "message": "the lab database timed out"}),
]


def seed(client: Albert, *, sessions: int = 2) -> tuple[str, list[str]]:
    """Create a folder with ``sessions`` sample conversations; return their ids."""
    folder = client.chat_folders.create(folder=ChatFolder(name="Resins (sample)"))
    folder_id = folder.id or ""
    ids = []
    for n in range(1, sessions + 1):
        session = client.chat_sessions.create(
            session=ChatSession(
                name=f"Cure speed {n}",
                source_session_id=f"sample-{uuid.uuid4()}",
                parent_id=folder_id,
            )
        )
        sid = session.id or ""
        client.chat_messages.create(
            message=ChatMessage(
                parent_id=sid,
                component_type="text",
                user_type="user",
                role="user",
                content=f"Which epoxy resin cures fastest at room temperature? ({n})",
            )
        )
        answer = str(uuid.uuid4())
        for position, (kind, content) in enumerate(ANSWER):
            client.chat_messages.create(
                message=ChatMessage(
                    parent_id=sid,
                    source_request_id=answer,
                    sequence=f"{position:03d}",
                    component_type=kind,
                    user_type="system",
                    role="assistant",
                    content=content,
                )
            )
        client.chat_flags.add(
            session_id=sid, source_request_id=answer, sequence="002", type=ChatFlagType.STARRED
        )
        ids.append(sid)
    return folder_id, ids


def main() -> int:
    """Seed the API the environment names; print what was made."""
    with Albert() as client:
        folder_id, ids = seed(client)
    print(f"folder {folder_id}")
    for sid in ids:
        print(f"session {sid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
