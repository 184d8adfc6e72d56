"""What JSON or UTF-8 cannot carry, or the SDK could not read back, is refused before sending."""

from __future__ import annotations

import math
from typing import Any

import pytest
import respx

from albert import AsyncAlbert
from albert._sendable import CONTENT_DEPTH
from albert.resources.chats import (
    ChatComponentType,
    ChatFolder,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatUserType,
)
from tests._async.helpers import BASE_URL, TOKEN

LONE = "cut \ud83d emoji"


def nested(depth: int) -> dict[str, Any]:
    """Return a dict nested ``depth`` levels deep (itself counted)."""
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value  # type: ignore[no-any-return]


def message(content: Any) -> ChatMessage:
    return ChatMessage(
        parent_id="ses-1",
        component_type=ChatComponentType.TEXT,
        user_type=ChatUserType.USER,
        role=ChatRole.USER,
        content=content,
    )


@pytest.fixture
def nothing_sent(api: respx.MockRouter) -> respx.Route:
    return api.route().respond(200, json={"id": "x", "name": "n", "sourceSessionId": "s"})


async def test_content_nested_deeper_than_a_listing_reads_back_is_refused(
    client: AsyncAlbert, api: respx.MockRouter, nothing_sent: respx.Route
) -> None:
    too_deep = nested(CONTENT_DEPTH + 1)

    with pytest.raises(ValueError, match=r"^message\.content\['a'\].* nested too deeply"):
        await client.chat_messages.create(message=message(too_deep))
    with pytest.raises(ValueError, match=r"^content\['a'\].*content may be at most 197 levels"):
        await client.chat_messages.update(
            session_id="ses-1", source_request_id="r", sequence="000", content=too_deep
        )
    assert nothing_sent.call_count == 0


async def test_content_as_deep_as_a_listing_reads_back_is_sent(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.post("/api/v3/chats/sessions/ses-1/messages").respond(201, json={"id": "m"})

    created = await client.chat_messages.create(message=message(nested(CONTENT_DEPTH)))

    assert route.call_count == 1
    assert created.id == "m"


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
async def test_nan_and_infinity_are_refused_on_create_and_on_update_alike(
    client: AsyncAlbert, nothing_sent: respx.Route, number: float
) -> None:
    content = {"rows": [{"tg": 105.0}, {"tg": number}]}

    with pytest.raises(ValueError, match="JSON cannot carry") as on_create:
        await client.chat_messages.create(message=message(content))
    with pytest.raises(ValueError, match="JSON cannot carry") as on_update:
        await client.chat_messages.update(
            session_id="ses-1", source_request_id="r", sequence="000", content=content
        )

    assert str(on_create.value).startswith("message.content['rows'][1]['tg'] is ")
    assert str(on_update.value).startswith("content['rows'][1]['tg'] is ")
    assert nothing_sent.call_count == 0


async def test_an_integer_too_long_to_write_is_refused_naming_where_it_is(
    client: AsyncAlbert, nothing_sent: respx.Route
) -> None:
    content = {"rows": [{"n": 10**5000}]}  # Python writes at most 4300 digits

    refused = r"\['rows'\]\[0\]\['n'\] is an integer of more than 4300 digits"
    with pytest.raises(ValueError, match=rf"^message\.content{refused}"):
        await client.chat_messages.create(message=message(content))
    with pytest.raises(ValueError, match=rf"^content{refused}"):
        await client.chat_messages.update(
            session_id="ses-1", source_request_id="r", sequence="000", content=content
        )
    assert nothing_sent.call_count == 0


async def test_bytes_that_are_not_utf8_are_refused_naming_where_they_are(
    client: AsyncAlbert, nothing_sent: respx.Route
) -> None:
    with pytest.raises(ValueError, match=r"message\.content\['blob'\] holds bytes that are not"):
        await client.chat_messages.create(message=message({"blob": b"\xff\xfe"}))
    assert nothing_sent.call_count == 0


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        ("session id", "id"),
        ("message session id", "session_id"),
        ("request id", "source_request_id"),
        ("session name", "session.name"),
        ("folder name", "folder.name"),
        ("name filter", "name"),
        ("rename", "name"),
        ("content key", "a key of message.content"),
        ("sequence", "sequence"),
    ],
)
async def test_a_lone_surrogate_is_refused_naming_the_argument(
    client: AsyncAlbert, nothing_sent: respx.Route, call: str, argument: str
) -> None:
    with pytest.raises(ValueError, match="lone surrogate") as caught:
        if call == "session id":
            await client.chat_sessions.get_by_id(id=LONE)
        elif call == "message session id":
            await client.chat_messages.get_by_id(
                session_id=LONE, source_request_id="r", sequence="000"
            )
        elif call == "request id":
            await client.chat_messages.delete(
                session_id="s", source_request_id=LONE, sequence="000"
            )
        elif call == "session name":
            await client.chat_sessions.create(
                session=ChatSession(name=LONE, source_session_id="src")
            )
        elif call == "folder name":
            await client.chat_folders.create(folder=ChatFolder(name=LONE))
        elif call == "name filter":
            client.chat_sessions.get_all(name=["ok", LONE])
        elif call == "rename":
            await client.chat_sessions.update(id="s", name=LONE)
        elif call == "content key":
            await client.chat_messages.create(message=message({LONE: 1}))
        elif call == "sequence":
            await client.chat_messages.get_by_id(
                session_id="s", source_request_id="r", sequence="00\udc00"
            )
    assert str(caught.value).startswith(f"{argument} holds a lone surrogate")
    assert nothing_sent.call_count == 0


async def test_a_resume_key_of_five_thousand_digits_is_a_value_error_naming_start_key(
    client: AsyncAlbert, nothing_sent: respx.Route
) -> None:
    with pytest.raises(ValueError, match="start_key") as caught:
        client.chat_messages.get_all(session_id="s", start_key="albert-resume:" + "9" * 5000)
    assert len(str(caught.value)) < 200
    assert nothing_sent.call_count == 0


@pytest.mark.parametrize("base_url", [5, b"https://albert.test"])
async def test_a_base_url_that_is_not_a_string_is_a_type_error_naming_it(base_url: Any) -> None:
    with pytest.raises(TypeError, match="base_url must be a string"):
        AsyncAlbert(base_url=base_url, token=TOKEN)


async def test_a_base_url_with_a_lone_surrogate_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="base_url holds a lone surrogate"):
        AsyncAlbert(base_url=BASE_URL + "/\udc80", token=TOKEN)
