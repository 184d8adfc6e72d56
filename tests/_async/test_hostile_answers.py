"""Hostile or broken answers: escaped secrets, deep JSON, lone surrogates, creates without id."""

from __future__ import annotations

import json
import pickle
import traceback

import httpx
import pytest
import respx

from albert import AsyncAlbert
from albert import exceptions as exc
from albert.core.auth import TOKEN_PATH
from albert.resources.chats import (
    ChatComponentType,
    ChatFolder,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatUserType,
)
from tests._async.helpers import BASE_URL, FOLDERS, MESSAGES, SESSIONS, TOKEN
from tests.auth_fakes import CLIENT_ID, CLIENT_SECRET

MESSAGE = {"componentType": "text", "userType": "user", "role": "user", "Content": "c"}


def escaped(secret: str) -> str:
    """Return ``secret`` as a server may write it in JSON: every character a \\u escape."""
    return "".join(f"\\u{ord(char):04x}" for char in secret)


def echoing(secret: str) -> bytes:
    """Return an error body echoing ``secret`` in JSON escapes only: as message, key and value."""
    hidden = escaped(secret)
    return (
        f'{{"message": "bad credentials {hidden}", '
        f'"errors": {{"{hidden}": ["seen {hidden}", {{"nested": "{hidden}"}}]}}}}'
    ).encode()


def everything_shown(error: exc.AlbertHTTPError) -> list[str]:
    """Return every text a user can see of an error: str, message, errors, pickle, traceback."""
    copy = pickle.loads(pickle.dumps(error))
    return [
        str(error),
        repr(error),
        error.message,
        json.dumps(error.errors),
        str(copy),
        copy.message,
        json.dumps(copy.errors),
        "".join(traceback.format_exception(error)),
    ]


def user_text() -> ChatMessage:
    return ChatMessage(
        parent_id="ses-1",
        component_type=ChatComponentType.TEXT,
        user_type=ChatUserType.USER,
        role=ChatRole.USER,
        content="hi",
    )


async def test_a_token_echoed_in_json_escapes_is_blanked_everywhere_the_error_shows(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    assert TOKEN.encode() not in echoing(TOKEN)  # a search of the raw body would miss it
    api.get(f"{SESSIONS}/s1").respond(400, content=echoing(TOKEN))

    with pytest.raises(exc.BadRequestError) as caught:
        await client.chat_sessions.get_by_id(id="s1")

    for text in everything_shown(caught.value):
        assert TOKEN not in text, text
    assert caught.value.message == "bad credentials ***"
    assert caught.value.errors["errors"] == {"***": ["seen ***", {"nested": "***"}]}


async def test_a_token_echoed_in_an_answer_that_does_not_fit_stays_out_of_the_decode_error(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    hidden = escaped(TOKEN)
    session = f'{{"name": ["{hidden}"], "sourceSessionId": "s"}}'
    api.get(f"{SESSIONS}/s1").respond(200, content=session.encode())
    api.get(f"{FOLDERS}/f1").respond(200, content=f'{{"name": "{TOKEN}'.encode())  # cut short
    api.post(MESSAGES).respond(201, content=f'{{"id": "m", "sequence": ["{hidden}"]}}'.encode())

    errors = []
    for call in (
        lambda: client.chat_sessions.get_by_id(id="s1"),
        lambda: client.chat_folders.get_by_id(id="f1"),
        lambda: client.chat_messages.create(message=user_text()),
    ):
        with pytest.raises(exc.AlbertDecodeError) as caught:
            await call()
        errors.append(caught.value)

    for error in errors:  # the validation error it came from quoted the decoded body
        for text in everything_shown(error):
            assert TOKEN not in text, text
    assert "name: Input should be a valid string" in str(errors[0])  # what did not fit
    assert "invalid JSON" in str(errors[1])
    assert "sequence: Input should be a valid string" in str(errors[2])


async def test_the_client_secret_echoed_by_a_busy_token_endpoint_stays_out_of_errors(
    api: respx.MockRouter, sleeps: list[float]
) -> None:
    api.post(TOKEN_PATH).respond(503, content=echoing(CLIENT_SECRET))

    albert = AsyncAlbert.from_client_credentials(
        base_url=BASE_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    with pytest.raises(exc.ServiceUnavailableError) as caught:
        await albert.chat_sessions.get_by_id(id="s1")
    await albert.aclose()

    for text in everything_shown(caught.value):
        assert CLIENT_SECRET not in text, text
    assert "***" in json.dumps(caught.value.errors)
    assert len(sleeps) == 3  # retried like any 503


DEEP = b"[" * 100_000 + b"]" * 100_000


async def test_a_deeply_nested_error_body_is_the_statuss_error_and_is_retried(
    client: AsyncAlbert, api: respx.MockRouter, sleeps: list[float]
) -> None:
    route = api.get(f"{SESSIONS}/s1").respond(503, content=DEEP)

    with pytest.raises(exc.ServiceUnavailableError) as caught:
        await client.chat_sessions.get_by_id(id="s1")

    assert route.call_count == 4
    assert len(sleeps) == 3
    assert "nested more than 200 levels" in str(caught.value)
    assert caught.value.errors is None
    pickle.loads(pickle.dumps(caught.value))


@pytest.mark.parametrize("depth", [300, 100_000])
async def test_a_deeply_nested_create_answer_is_a_decode_error(
    client: AsyncAlbert, api: respx.MockRouter, depth: int
) -> None:
    deep = b'{"id": "m", "x": ' + b"[" * depth + b"]" * depth + b"}"
    api.post(MESSAGES).respond(201, content=deep)
    api.post(SESSIONS).respond(201, content=deep)

    with pytest.raises(exc.AlbertDecodeError, match=r"nested too deeply|invalid JSON"):
        await client.chat_messages.create(message=user_text())
    with pytest.raises(exc.AlbertDecodeError):
        await client.chat_sessions.create(session=ChatSession(name="n", source_session_id="s"))


async def test_lone_surrogates_from_the_server_become_replacement_characters(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    item = json.dumps({**MESSAGE, "Content": "cut PLACEHOLDER emoji"}).replace(
        "PLACEHOLDER", "\\ud83d"
    )
    whole = json.dumps({**MESSAGE, "Content": "whole \U0001f600"})
    api.get(MESSAGES).respond(200, content=f'{{"Items": [{item}, {whole}]}}'.encode())
    api.post(MESSAGES).respond(201, content=b'{"id": "m", "spanId": "\\udc00x"}')

    listed = [m.content async for m in client.chat_messages.get_all(session_id="ses-1")]
    created = await client.chat_messages.create(message=user_text())

    assert listed == ["cut \ufffd emoji", "whole \U0001f600"]
    assert created.span_id == "\ufffdx"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(201, json={}),
        httpx.Response(204),
        httpx.Response(200, content=b""),
        httpx.Response(201, json={"sequence": "000"}),
    ],
)
async def test_a_message_create_answered_without_an_id_is_a_decode_error(
    client: AsyncAlbert, api: respx.MockRouter, answer: httpx.Response
) -> None:
    api.post(MESSAGES).mock(return_value=answer)

    with pytest.raises(exc.AlbertDecodeError, match="no id"):
        await client.chat_messages.create(message=user_text())


async def test_a_session_or_folder_create_answered_without_an_id_is_a_decode_error(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.post(SESSIONS).respond(201, json={"name": "n", "sourceSessionId": "s"})
    api.post(FOLDERS).respond(201, json={"name": "f"})

    with pytest.raises(exc.AlbertDecodeError, match="no id"):
        await client.chat_sessions.create(session=ChatSession(name="n", source_session_id="s"))
    with pytest.raises(exc.AlbertDecodeError, match="no id"):
        await client.chat_folders.create(folder=ChatFolder(name="f"))
