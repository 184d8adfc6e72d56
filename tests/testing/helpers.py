"""Helpers of the emulator's HTTP tests."""

from __future__ import annotations

from typing import Any

import httpx

TOKEN = "tok"
API = "http://emulator/api/v3"


async def new_session(
    http: httpx.AsyncClient, name: str = "Polymer screening", **fields: Any
) -> dict[str, Any]:
    response = await http.post(
        "/chats/sessions", json={"name": name, "sourceSessionId": f"src-{name}", **fields}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def new_message(
    http: httpx.AsyncClient,
    sid: str,
    srid: str = "r0",
    content: Any = "hi",
    sequence: str = "000",
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "sourceRequestId": srid,
        "sequence": sequence,
        "componentType": "text",
        "userType": "user",
        "role": "user",
        "Content": content,
        **fields,
    }
    response = await http.post(f"/chats/sessions/{sid}/messages", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def update(attribute: str, value: Any) -> dict[str, Any]:
    return {"data": [{"operation": "update", "attribute": attribute, "newValue": value}]}
