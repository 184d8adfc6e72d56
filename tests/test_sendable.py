"""The SDK refuses to send past the limits its parser reads; JSON walks and repairs."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest

from albert._jsonwalk import JSONTooDeepError, map_strings
from albert._sendable import CONTENT_DEPTH, RESOURCE_DEPTH, check_json
from albert.core.responses import repair_lone_surrogates
from albert.resources.base import Page, validate_server_json
from albert.resources.chats import ChatMessage


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def page_of(content: Any) -> bytes:
    item = {"componentType": "text", "userType": "user", "role": "user", "Content": content}
    return json.dumps({"Items": [item]}).encode()


def test_the_content_depth_limit_is_exactly_what_a_listing_page_reads_back() -> None:
    # Measured, not assumed: if pydantic's parser changes its limit, this fails.
    assert validate_server_json(Page[ChatMessage], page_of(nested(CONTENT_DEPTH))).items
    with pytest.raises(pydantic.ValidationError, match="recursion limit"):
        validate_server_json(Page[ChatMessage], page_of(nested(CONTENT_DEPTH + 1)))
    check_json(nested(CONTENT_DEPTH), name="content", max_depth=CONTENT_DEPTH)
    with pytest.raises(ValueError, match="nested too deeply"):
        check_json(nested(CONTENT_DEPTH + 1), name="content", max_depth=CONTENT_DEPTH)
    assert RESOURCE_DEPTH == CONTENT_DEPTH + 1


def test_lists_count_as_levels_as_dicts_do() -> None:
    value: Any = "leaf"
    for _ in range(CONTENT_DEPTH):
        value = [value]
    check_json({"rows": value[0]}, name="content", max_depth=CONTENT_DEPTH)
    with pytest.raises(ValueError, match=r"content\['rows'\]\[0\]"):
        check_json({"rows": value}, name="content", max_depth=CONTENT_DEPTH)


def test_map_strings_rewrites_keys_and_values_in_order_without_recursion() -> None:
    decoded = json.loads("[" * 900 + '{"k": "v"}' + "]" * 900)
    upper = map_strings(decoded, str.upper, max_depth=1000)
    inner = upper
    for _ in range(900):
        inner = inner[0]
    assert inner == {"K": "V"}
    assert map_strings({"a": ["x", 1, None, {"b": "y"}]}, str.upper, max_depth=3) == {
        "A": ["X", 1, None, {"B": "Y"}]
    }
    with pytest.raises(JSONTooDeepError):
        map_strings({"a": [{"b": 1}]}, str.upper, max_depth=2)


@pytest.mark.parametrize(
    ("raw", "repaired"),
    [
        (rb'"a\ud83d b"', rb'"a\ufffd b"'),  # a lone high half
        (rb'"\udc00"', rb'"\ufffd"'),  # a lone low half
        (rb'"\ud83d\ude00"', rb'"\ud83d\ude00"'),  # a pair is kept
        (rb'"\\ud800"', rb'"\\ud800"'),  # the text \ud800, not an escape
        (rb'"\\\ud800"', rb'"\\\ufffd"'),  # a backslash, then an escape
        (rb'"\ud83d\\udc00"', rb'"\ufffd\\udc00"'),
    ],
)
def test_repair_lone_surrogates(raw: bytes, repaired: bytes) -> None:
    assert repair_lone_surrogates(raw) == repaired
    if raw == repaired:
        assert repair_lone_surrogates(raw) is raw
