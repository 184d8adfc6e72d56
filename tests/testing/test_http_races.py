"""Concurrent requests: what one changes or deletes while another still sends its body stays."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import httpx

from tests.testing.helpers import new_message, new_session, update

MESSAGE = {
    "sourceRequestId": "r1",
    "sequence": "000",
    "componentType": "text",
    "userType": "user",
    "role": "user",
    "Content": "hi",
}


async def while_sending(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    body: Any,
    meanwhile: Callable[[], Awaitable[httpx.Response]],
    **options: Any,
) -> tuple[httpx.Response, httpx.Response]:
    """Send a request whose body comes in two parts, with ``meanwhile`` done between them.

    When the handler asks for the second part, it has found what it addresses.
    Returns the slow request's answer and the one of ``meanwhile``.
    """
    data = json.dumps(body).encode()
    asked, resume = anyio.Event(), anyio.Event()
    answers: dict[str, httpx.Response] = {}

    async def parts() -> AsyncIterator[bytes]:
        yield data[:5]
        asked.set()
        await resume.wait()
        yield data[5:]

    async def send_slowly() -> None:
        answers["slow"] = await http.request(method, url, content=parts(), **options)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(send_slowly)
        await asked.wait()
        answers["other"] = await meanwhile()
        resume.set()
    return answers["slow"], answers["other"]


async def test_a_rename_during_a_message_create_is_kept(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http, "before"))["id"]
    created, renamed = await while_sending(
        http,
        "POST",
        f"/chats/sessions/{sid}/messages",
        MESSAGE,
        lambda: http.patch(f"/chats/sessions/{sid}", json=update("name", "after")),
    )
    assert (created.status_code, renamed.status_code) == (201, 204)
    session = (await http.get(f"/chats/sessions/{sid}")).json()
    assert (session["name"], session["lastMessageAt"]) == ("after", created.json()["createdAt"])


async def test_a_message_create_in_a_session_deleted_meanwhile_is_a_404(
    http: httpx.AsyncClient,
) -> None:
    sid = (await new_session(http))["id"]
    created, deleted = await while_sending(
        http,
        "POST",
        f"/chats/sessions/{sid}/messages",
        MESSAGE,
        lambda: http.delete(f"/chats/sessions/{sid}"),
    )
    assert (created.status_code, deleted.status_code) == (404, 204)
    assert created.json()["message"] == f"chat session {sid!r} not found"
    assert (await http.get(f"/chats/sessions/{sid}")).status_code == 404
    assert (await http.get(f"/chats/sessions/{sid}/messages")).status_code == 404


async def test_patches_of_two_attributes_at_once_both_stay(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http, "n0"))["id"]
    fid = (await http.post("/chats/folders", json={"name": "F"})).json()["id"]
    named, moved = await while_sending(
        http,
        "PATCH",
        f"/chats/sessions/{sid}",
        update("name", "n1"),
        lambda: http.patch(f"/chats/sessions/{sid}", json=update("parentId", fid)),
    )
    assert (named.status_code, moved.status_code) == (204, 204)
    session = (await http.get(f"/chats/sessions/{sid}")).json()
    assert (session["name"], session["parentId"]) == ("n1", fid)


async def test_a_patch_of_a_session_deleted_meanwhile_is_a_404(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    patched, deleted = await while_sending(
        http,
        "PATCH",
        f"/chats/sessions/{sid}",
        update("name", "back"),
        lambda: http.delete(f"/chats/sessions/{sid}"),
    )
    assert (patched.status_code, deleted.status_code) == (404, 204)
    assert (await http.get(f"/chats/sessions/{sid}")).status_code == 404


async def test_a_patch_of_a_message_deleted_meanwhile_is_a_404(http: httpx.AsyncClient) -> None:
    sid = (await new_session(http))["id"]
    await new_message(http, sid, "r1")
    url, sequence = f"/chats/sessions/{sid}/messages/r1", {"sequence": "000"}
    patched, deleted = await while_sending(
        http,
        "PATCH",
        url,
        update("Content", "edited"),
        lambda: http.delete(url, params=sequence),
        params=sequence,
    )
    assert (patched.status_code, deleted.status_code) == (404, 204)
    assert (await http.get(url, params=sequence)).status_code == 404
    assert (await http.get(f"/chats/sessions/{sid}/messages")).json() == {"Items": []}


async def test_a_patch_of_a_folder_deleted_meanwhile_is_a_404(http: httpx.AsyncClient) -> None:
    fid = (await http.post("/chats/folders", json={"name": "F"})).json()["id"]
    patched, deleted = await while_sending(
        http,
        "PATCH",
        f"/chats/folders/{fid}",
        update("name", "G"),
        lambda: http.delete(f"/chats/folders/{fid}"),
    )
    assert (patched.status_code, deleted.status_code) == (404, 204)
    assert (await http.get(f"/chats/folders/{fid}")).status_code == 404
