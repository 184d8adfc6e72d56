"""Chat messages on the wire: create quirks, addressing by sequence, listing, edits."""

from __future__ import annotations

import uuid

import httpx
import pydantic
import pytest
import respx

from albert import AsyncAlbert
from albert.exceptions import AlbertDecodeError
from albert.resources.chats import ChatComponentType, ChatMessage, ChatRole, ChatUserType
from tests._async.helpers import MESSAGES, assert_authorized, body, query, sent

STORED = {
    "id": "msg-1",
    "sourceRequestId": "req-1",
    "sequence": "000",
    "componentType": "text",
    "userType": "user",
    "role": "user",
    "Content": "What is the Tg of PMMA?",
    "parentId": "ses-1",
}


def user_text(content: str = "What is the Tg of PMMA?", **fields: object) -> ChatMessage:
    return ChatMessage(
        parent_id="ses-1",
        component_type=ChatComponentType.TEXT,
        user_type=ChatUserType.USER,
        role=ChatRole.USER,
        content=content,
        **fields,  # type: ignore[arg-type]
    )


async def test_create_puts_the_session_in_the_path_and_generates_a_request_id(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    # The server's create response leaves Content out.
    route = api.post(MESSAGES).respond(
        201, json={"id": "msg-1", "sequence": "000", "sourceRequestId": "ignored-by-test"}
    )

    created = await client.chat_messages.create(message=user_text())

    request = sent(route)
    assert_authorized(request)
    sent_body = body(request)
    assert "parentId" not in sent_body
    assert uuid.UUID(sent_body.pop("sourceRequestId")).version == 4
    assert sent_body == {
        "componentType": "text",
        "userType": "user",
        "role": "user",
        "Content": "What is the Tg of PMMA?",
        "sequence": "000",  # required by the API: a new request starts at 000
    }
    assert created.content == "What is the Tg of PMMA?"
    assert created.id == "msg-1"
    assert created.sequence == "000"
    assert created.parent_id == "ses-1"


async def test_create_keeps_a_given_request_id_and_dict_content(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.post(MESSAGES).respond(201, json={"id": "m", "sequence": "004"})
    content = {"tool": "search", "args": {"q": "PMMA"}}

    created = await client.chat_messages.create(
        message=ChatMessage(
            parent_id="ses-1",
            source_request_id="req-9",
            component_type=ChatComponentType.TOOL_CALL,
            user_type=ChatUserType.SYSTEM,
            role=ChatRole.ASSISTANT,
            content=content,
        )
    )

    assert body(sent(route))["sourceRequestId"] == "req-9"
    assert body(sent(route))["Content"] == content
    assert created.source_request_id == "req-9"
    assert created.content == content
    assert created.component_type is ChatComponentType.TOOL_CALL


async def test_a_component_added_to_an_existing_request_sends_its_request_id_and_sequence(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.post(MESSAGES).respond(201, json={"id": "m2"})

    created = await client.chat_messages.create(
        message=user_text("second part", source_request_id="req-1", sequence="001")
    )

    assert body(sent(route))["sourceRequestId"] == "req-1"
    assert body(sent(route))["sequence"] == "001"
    assert (created.source_request_id, created.sequence) == ("req-1", "001")


async def test_create_with_an_empty_sequence_is_refused_before_sending(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    catch_all = api.route().respond(201, json={"id": "m"})

    with pytest.raises(ValueError, match="sequence"):
        await client.chat_messages.create(message=user_text(sequence=""))
    assert catch_all.call_count == 0


async def test_create_without_parent_id_is_refused_before_sending(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    catch_all = api.route().respond(201, json={})
    message = ChatMessage(
        component_type=ChatComponentType.TEXT,
        user_type=ChatUserType.USER,
        role=ChatRole.USER,
        content="hi",
    )

    with pytest.raises(ValueError, match="parent_id"):
        await client.chat_messages.create(message=message)
    assert catch_all.call_count == 0


async def test_create_with_a_garbage_response_raises_a_decode_error(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    api.post(MESSAGES).respond(200, text="<html>oops</html>")

    with pytest.raises(AlbertDecodeError, match="oops"):
        await client.chat_messages.create(message=user_text())


async def test_get_by_id_sends_sequence_and_component_type(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(f"{MESSAGES}/req-1").respond(200, json=STORED)

    found = await client.chat_messages.get_by_id(
        session_id="ses-1", source_request_id="req-1", sequence="000"
    )
    narrowed = await client.chat_messages.get_by_id(
        session_id="ses-1",
        source_request_id="req-1",
        sequence="000",
        component_type=ChatComponentType.TEXT,
    )

    assert query(route.calls[0].request) == [("sequence", "000")]
    assert query(route.calls[1].request) == [("sequence", "000"), ("componentType", "text")]
    assert found == narrowed == ChatMessage.model_validate(STORED)


async def test_get_all_lists_oldest_first_across_pages(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    def page(seqs: list[str], key: str | None) -> httpx.Response:
        items = [{**STORED, "sequence": s, "sourceRequestId": f"req-{s}"} for s in seqs]
        return httpx.Response(200, json={"Items": items, "lastKey": key})

    route = api.get(MESSAGES).mock(
        side_effect=[page(["000", "001"], "k1"), page(["002"], "k2"), page(["003"], None)]
    )

    paginator = client.chat_messages.get_all(session_id="ses-1")
    assert [m.sequence async for m in paginator] == ["000", "001", "002", "003"]
    assert [query(c.request) for c in route.calls] == [
        [],
        [("startKey", "k1")],
        [("startKey", "k2")],
    ]


async def test_a_component_type_added_to_the_api_later_does_not_fail_the_listing(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    chart = {**STORED, "sequence": "001", "componentType": "chart", "role": "tool"}
    api.get(MESSAGES).respond(200, json={"Items": [STORED, chart, STORED]})

    messages = [m async for m in client.chat_messages.get_all(session_id="ses-1")]

    assert [m.component_type for m in messages] == ["text", "chart", "text"]
    assert isinstance(messages[1].component_type, ChatComponentType)
    assert messages[1].role == "tool"
    assert messages[0].component_type is ChatComponentType.TEXT
    assert "chart" not in [t.value for t in ChatComponentType]  # nothing added to the enum
    with pytest.raises(pydantic.ValidationError):  # what the caller passes stays strict
        ChatMessage(
            parent_id="ses-1", component_type="chart", user_type="user", role="user", content="x"
        )


async def test_a_message_received_with_a_new_type_can_be_created_again(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    chart = {**STORED, "componentType": "chart"}
    api.get(f"{MESSAGES}/req-1").respond(200, json=chart)
    route = api.post(MESSAGES).respond(201, json={"id": "msg-2", "sequence": "001", "role": "tool"})

    received = await client.chat_messages.get_by_id(
        session_id="ses-1", source_request_id="req-1", sequence="000"
    )
    created = await client.chat_messages.create(message=received)

    assert body(sent(route))["componentType"] == "chart"
    assert route.call_count == 1
    assert (created.component_type, created.role, created.id) == ("chart", "tool", "msg-2")


async def test_get_all_max_items(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.get(MESSAGES).respond(200, json={"Items": [STORED, STORED], "lastKey": "k"})

    assert (
        len([m async for m in client.chat_messages.get_all(session_id="ses-1", max_items=2)]) == 2
    )
    assert route.call_count == 1


@pytest.mark.parametrize("content", ["Corrected answer", {"text": "Corrected", "refs": [1, 2]}])
async def test_update_patches_content_then_returns_the_fresh_message(
    client: AsyncAlbert, api: respx.MockRouter, content: str | dict[str, object]
) -> None:
    patch = api.patch(f"{MESSAGES}/req-1").respond(204)
    get = api.get(f"{MESSAGES}/req-1").respond(200, json={**STORED, "Content": content})

    updated = await client.chat_messages.update(
        session_id="ses-1", source_request_id="req-1", sequence="000", content=content
    )

    assert query(sent(patch)) == [("sequence", "000")]
    assert body(sent(patch)) == {
        "data": [{"operation": "update", "attribute": "Content", "newValue": content}]
    }
    assert query(sent(get)) == [("sequence", "000")]
    assert updated.content == content


async def test_delete_sends_the_sequence(client: AsyncAlbert, api: respx.MockRouter) -> None:
    route = api.delete(f"{MESSAGES}/req-1").respond(204)

    assert (
        await client.chat_messages.delete(
            session_id="ses-1", source_request_id="req-1", sequence="000"
        )
        is None
    )
    assert query(sent(route)) == [("sequence", "000")]
    assert_authorized(sent(route))


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ("empty_sequence", ValueError),
        ("empty_session", ValueError),
        ("bad_component_type", pydantic.ValidationError),
        ("content_int", pydantic.ValidationError),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    client: AsyncAlbert, api: respx.MockRouter, call: str, error: type[Exception]
) -> None:
    catch_all = api.route().respond(200, json=STORED)
    messages = client.chat_messages
    with pytest.raises(error):
        if call == "empty_sequence":
            await messages.get_by_id(session_id="ses-1", source_request_id="r", sequence="")
        elif call == "empty_session":
            await messages.delete(session_id="", source_request_id="r", sequence="000")
        elif call == "bad_component_type":
            await messages.get_by_id(
                session_id="s",
                source_request_id="r",
                sequence="000",
                component_type="poem",  # type: ignore[arg-type]
            )
        elif call == "content_int":
            await messages.update(
                session_id="s",
                source_request_id="r",
                sequence="000",
                content=5,  # type: ignore[arg-type]
            )
    assert catch_all.call_count == 0
