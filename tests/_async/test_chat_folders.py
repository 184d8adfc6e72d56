"""Chat folders on the wire."""

from __future__ import annotations

import respx

from albert import AsyncAlbert
from albert.resources.chats import ChatFolder, ChatFolderType
from tests._async.helpers import FOLDERS, assert_authorized, body, query, sent

FOLDER = {"id": "fld-1", "name": "Projects", "type": "root", "parentId": None}


async def test_create_sends_type_for_folder_type(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.post(FOLDERS).respond(201, json=FOLDER)

    created = await client.chat_folders.create(
        folder=ChatFolder(name="Projects", folder_type=ChatFolderType.ROOT)
    )

    assert_authorized(sent(route))
    assert body(sent(route)) == {"name": "Projects", "type": "root"}
    assert created.id == "fld-1"
    assert created.folder_type is ChatFolderType.ROOT


async def test_get_by_id_and_delete(client: AsyncAlbert, api: respx.MockRouter) -> None:
    get = api.get(f"{FOLDERS}/fld-1").respond(200, json=FOLDER)
    delete = api.delete(f"{FOLDERS}/fld-1").respond(204)

    assert (await client.chat_folders.get_by_id(id="fld-1")).name == "Projects"
    assert await client.chat_folders.delete(id="fld-1") is None
    assert get.call_count == delete.call_count == 1


async def test_get_all_with_names_matches_them_exactly_by_default(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(FOLDERS).mock(
        side_effect=[
            respx.MockResponse(200, json={"Items": [FOLDER], "lastKey": "k1"}),
            respx.MockResponse(200, json={"Items": [{**FOLDER, "id": "fld-2"}]}),
        ]
    )

    folders = [f.id async for f in client.chat_folders.get_all(name=["Projects", "Archive"])]

    assert folders == ["fld-1", "fld-2"]
    expected = [("name", "Projects"), ("name", "Archive"), ("exactMatch", "true")]
    assert query(route.calls[0].request) == expected
    assert query(route.calls[1].request) == [*expected, ("startKey", "k1")]


async def test_get_all_max_items_and_default_query(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    route = api.get(FOLDERS).respond(200, json={"Items": [FOLDER], "lastKey": "k1"})

    assert [f.id async for f in client.chat_folders.get_all(max_items=1)] == ["fld-1"]
    assert route.call_count == 1
    assert query(sent(route)) == []


async def test_update_name_and_sequence(client: AsyncAlbert, api: respx.MockRouter) -> None:
    patch = api.patch(f"{FOLDERS}/fld-1").respond(204)
    api.get(f"{FOLDERS}/fld-1").respond(200, json={**FOLDER, "name": "Renamed"})

    updated = await client.chat_folders.update(
        id="fld-1", name="Renamed", sequence=["ses-2", "ses-1"]
    )

    assert body(sent(patch)) == {
        "data": [
            {"operation": "update", "attribute": "name", "newValue": "Renamed"},
            {"operation": "update", "attribute": "sequence", "newValue": ["ses-2", "ses-1"]},
        ]
    }
    assert updated.name == "Renamed"


async def test_update_sequence_only(client: AsyncAlbert, api: respx.MockRouter) -> None:
    patch = api.patch(f"{FOLDERS}/fld-1").respond(204)
    api.get(f"{FOLDERS}/fld-1").respond(200, json=FOLDER)

    await client.chat_folders.update(id="fld-1", sequence=["a"])

    assert body(sent(patch))["data"] == [
        {"operation": "update", "attribute": "sequence", "newValue": ["a"]}
    ]


async def test_update_with_nothing_to_change_sends_no_patch(
    client: AsyncAlbert, api: respx.MockRouter
) -> None:
    patch = api.patch(f"{FOLDERS}/fld-1").respond(204)
    get = api.get(f"{FOLDERS}/fld-1").respond(200, json=FOLDER)

    folder = await client.chat_folders.update(id="fld-1")

    assert patch.call_count == 0
    assert get.call_count == 1
    assert folder.id == "fld-1"
