"""What people see: short reprs, and HTML in which nothing the server sent runs."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any

import pytest

from albert.display import image_url, link_url, to_html
from albert.resources.base import ResourceList, validate_server_python
from albert.resources.chats import (
    ChatFlag,
    ChatFlagsInMessage,
    ChatFolder,
    ChatMessage,
    ChatSession,
)
from albert.resources.transcripts import Transcript

# ---- hostile content ---------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '" onmouseover="alert(1)" x="'
HOSTILE_TEXT = f"{SCRIPT}<img src=x onerror=alert(1)>{BREAKOUT}'><svg onload=alert(1)>"
BAD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "vbscript:msgbox(1)",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "data:text/html,<script>alert(1)</script>",
    "data:image/png,<script>",
    "//evil.example/x.png",
    "http://",
    "https://ok.example/x.png\nonerror=alert(1)",
    'https://ok.example/x.png" onerror="alert(1)',
    "file:///etc/passwd",
]
GOOD_IMAGE = "data:image/png;base64,iVBORw0KGgo="


def server(model: type[Any], data: dict[str, Any]) -> Any:
    return validate_server_python(model, data)


def hostile_message(kind: str, content: Any, sequence: str = "000") -> ChatMessage:
    return server(
        ChatMessage,
        {
            "id": f"msg-{HOSTILE_TEXT}",
            "sourceRequestId": f"req{BREAKOUT}",
            "sequence": sequence,
            "componentType": kind,
            "userType": "system",
            "role": "assistant",
            "Content": content,
            "attachments": [{"fileId": "f", "title": HOSTILE_TEXT, "kind": SCRIPT}],
        },
    )


def hostile_transcript() -> Transcript:
    session = server(
        ChatSession,
        {
            "id": f"ses{BREAKOUT}",
            "name": HOSTILE_TEXT,
            "sourceSessionId": SCRIPT,
            "parentId": SCRIPT,
            "lastMessageAt": SCRIPT,
        },
    )
    hostile_dict = {HOSTILE_TEXT: HOSTILE_TEXT, "nested": {"deeper": [HOSTILE_TEXT]}}
    messages = [
        hostile_message("text", HOSTILE_TEXT),
        hostile_message("reasoning_block", HOSTILE_TEXT, "001"),
        hostile_message("tool_call", {"tool": HOSTILE_TEXT, "arguments": hostile_dict}, "002"),
        hostile_message("product_card", hostile_dict, "003"),
        hostile_message("ingredient_card", hostile_dict, "004"),
        hostile_message(
            "document_citation",
            {"citations": [{"title": HOSTILE_TEXT, "url": u} for u in BAD_URLS]},
            "005",
        ),
        hostile_message("notebook_citation", {"url": BAD_URLS[0], "title": HOSTILE_TEXT}, "006"),
        hostile_message("plan", {"steps": [HOSTILE_TEXT, {"x": HOSTILE_TEXT}]}, "007"),
        hostile_message("permission_request", hostile_dict, "008"),
        hostile_message("error", {"message": HOSTILE_TEXT}, "009"),
        hostile_message(f"<b>{SCRIPT}</b>", hostile_dict, "010"),  # a type the SDK does not know
        *[
            hostile_message("image", {"url": url, "alt": HOSTILE_TEXT}, f"{11 + n:03d}")
            for n, url in enumerate(BAD_URLS)
        ],
        hostile_message("image", BAD_URLS[0], "100"),
    ]
    return Transcript(session=session, messages=tuple(messages))


VOID = {"img", "br"}


class Elements(HTMLParser):
    """Every element and attribute of an HTML fragment, and its text.

    It also checks that the fragment is a tree: each end tag closes the element
    open last, and none is left open (server text that could close a table or
    a section early would show here). ``chunks`` holds each piece of text with
    the elements around it, outermost first.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.open: list[tuple[str, int]] = []  # (tag, its position in `tags`)
        self.chunks: list[tuple[str, tuple[tuple[str, int], ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append((tag, len(self.tags) - 1))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open[-1][0] == tag, f"</{tag}> closes <{self.open[-1][0]}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.chunks.append((data, tuple(self.open)))


def parse(fragment: str) -> Elements:
    parser = Elements()
    parser.feed(fragment)
    parser.close()
    assert not parser.open, f"left open: {[tag for tag, _ in parser.open]}"
    return parser


#: The only elements and attributes the renderer makes.
ALLOWED_TAGS = {
    "div", "span", "strong", "code", "table", "caption", "tr", "th", "td", "ol", "li",
    "details", "summary", "section", "figure", "img", "a", "br", "bdi",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "style", "class", "href", "src", "alt", "title", "target", "rel", "loading", "referrerpolicy",
}  # fmt: skip


def assert_inert(fragment: str) -> Elements:
    """Assert that nothing in ``fragment`` is markup the renderer did not make itself."""
    parsed = parse(fragment)
    for tag, attributes in parsed.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attributes.items():
            assert name in ALLOWED_ATTRIBUTES, (tag, name)
            if name in ("style", "class", "target", "rel", "loading", "referrerpolicy"):
                assert "alert" not in (value or ""), (tag, name, value)
            if name == "href":
                assert link_url(value) == value, value
                assert value not in BAD_URLS
            if name == "src":
                assert image_url(value) == value, value
                assert value not in BAD_URLS
    return parsed


def test_a_hostile_transcript_renders_as_text_and_nothing_in_it_runs() -> None:
    fragment = hostile_transcript()._repr_html_()

    parsed = assert_inert(fragment)

    text = "".join(parsed.text)
    assert text.count(HOSTILE_TEXT) >= 10  # shown, as text
    assert not [attrs for tag, attrs in parsed.tags if tag == "img"]  # no bad URL loads
    assert not [attrs for tag, attrs in parsed.tags if tag == "a"]  # and none is a link
    assert "<script" not in fragment.lower()


@pytest.mark.parametrize(
    "model",
    [
        hostile_message("text", HOSTILE_TEXT),
        server(ChatFolder, {"id": BREAKOUT, "name": HOSTILE_TEXT, "type": SCRIPT}),
        server(ChatFlag, {"parentId": BREAKOUT, "sourceRequestId": HOSTILE_TEXT, "type": SCRIPT}),
        server(ChatFlagsInMessage, {"sourceRequestId": HOSTILE_TEXT, "flags": [SCRIPT]}),
        server(ChatSession, {"id": "s", "name": HOSTILE_TEXT, "sourceSessionId": BREAKOUT}),
    ],
    ids=["message", "folder", "flag", "flag set", "session"],
)
def test_every_resource_and_a_table_of_them_render_inert(model: Any) -> None:
    for fragment in (model._repr_html_(), ResourceList([model, model])._repr_html_()):
        parsed = assert_inert(fragment)
        assert HOSTILE_TEXT[:40] in "".join(parsed.text) or SCRIPT in "".join(parsed.text)


#: Characters that reorder the text after them (right-to-left override, isolates, marks).
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Elements that end a run of text: an embedding or override inside one stops at its end.
BLOCKS = {"div", "td", "th", "li", "caption", "summary", "section", "figure", "table", "ol"}


def test_server_text_cannot_reorder_the_words_around_it() -> None:
    rlo = "\u202e"
    session = server(
        ChatSession,
        {"id": f"ses-{rlo}1", "name": f"x{rlo}y", "sourceSessionId": "s", "parentId": f"f{rlo}"},
    )
    data = {
        "sourceRequestId": f"req-{rlo}1",
        "sequence": "000",
        "componentType": f"card{rlo}",
        "userType": "system",
        "role": f"assistant{rlo}",
        "Content": {"url": f"bad{rlo}"},
        "attachments": [{"fileId": "f", "title": f"a{rlo}.txt", "kind": f"k{rlo}"}],
    }
    message = server(ChatMessage, data)
    image = server(ChatMessage, {**data, "componentType": "image"})
    transcript = Transcript(session=session, messages=(message, image))

    fragments = {
        "transcript": transcript._repr_html_(),
        "message": to_html(message),
        "table": to_html([session, message]),  # a cell each: nothing else on their line
    }
    for name, fragment in fragments.items():
        parsed = assert_inert(fragment)
        isolated = 0
        for text, around in parsed.chunks:
            if not BIDI.search(text):
                continue
            # Inside a <bdi>, or alone in its block: either way the SDK's own
            # words (the role, "request", the counts) keep their order.
            inner = [tag for tag, _ in around if tag == "bdi" or tag in BLOCKS][-1]
            if inner == "bdi":
                isolated += 1
                continue
            block = [element for element in around if element[0] in BLOCKS][-1]
            siblings = [
                other for other, others in parsed.chunks if block in others and other.strip()
            ]
            assert siblings == [text], (text, siblings)
        assert isolated or name == "table"


def test_long_words_wrap_and_huge_content_is_cut() -> None:
    word = "x" * 300
    huge = "y" * 1_000_000
    data = {"sequence": "000", "userType": "system", "role": "assistant"}
    message = server(
        ChatMessage,
        {
            **data,
            "componentType": "tool_call",
            "Content": {"tool": "t", "arguments": {"query": word, "document": huge + "END"}},
        },
    )
    text = server(ChatMessage, {**data, "componentType": "text", "Content": huge + "END"})

    for fragment in (to_html(message), to_html(text)):
        parsed = assert_inert(fragment)
        assert len(fragment) < 50_000
        assert "END" not in fragment
        assert "more characters: message.content holds them all" in "".join(parsed.text)
        for tag, attributes in parsed.tags:
            style = attributes.get("style") or ""
            if tag == "td" or "pre-wrap" in style:
                assert "overflow-wrap:anywhere" in style, (tag, style)
            if tag == "th":  # a name breaks only where it must, not a letter a line
                assert "overflow-wrap:break-word" in style, (tag, style)
    assert word in to_html(message)  # a long word is kept whole, and wraps


@pytest.mark.parametrize("url", BAD_URLS)
def test_no_unsafe_url_is_an_image_or_a_link(url: str) -> None:
    assert image_url(url) is None
    assert link_url(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/gel.png",
        "HTTP://example.com/a?b=c&d=e",
        GOOD_IMAGE,
        "data:image/jpeg;base64,/9j/4AAQ",
        "data:image/gif;base64,R0lGOD==",
        "data:image/webp;base64,UklGRg==",
    ],
)
def test_http_urls_and_raster_data_urls_are_images(url: str) -> None:
    assert image_url(url) == url
    fragment = to_html(hostile_message("image", {"url": url, "alt": "gel & <b>time</b>"}))
    [(_, img)] = [(t, a) for t, a in assert_inert(fragment).tags if t == "img"]
    assert img["src"] == url
    assert img["alt"] == "gel & <b>time</b>"  # an attribute value, escaped on the way


def test_each_component_type_is_shown_for_what_it_is() -> None:
    def shown(kind: str, content: Any) -> str:
        return to_html(server(ChatMessage, {**BASE, "componentType": kind, "Content": content}))

    BASE = {"sequence": "000", "userType": "system", "role": "assistant"}
    text = shown("text", "line one\nline two")
    assert "line one\nline two" in text
    assert "white-space:pre-wrap" in text
    image = shown("image", {"url": "https://example.com/g.png", "alt": "gel"})
    assert '<img src="https://example.com/g.png" alt="gel"' in image
    reasoning = shown("reasoning_block", {"steps": ["compare", "keep"]})
    assert "<details" in reasoning
    assert "<summary" in reasoning
    assert "<li>" in reasoning
    tool = shown("tool_call", {"tool": "search", "arguments": {"cure": "25 C"}})
    assert "tool call: search" in tool
    assert "<th" in tool
    assert "cure" in tool
    citation = shown("document_citation", {"title": "Gel", "url": "https://example.com/a"})
    assert '<a href="https://example.com/a"' in citation
    assert 'rel="noopener' in citation
    error = shown("error", {"code": "TOOL_TIMEOUT", "message": "timed out"})
    assert "⚠ error" in error
    assert "TOOL_TIMEOUT" in error
    for kind in ("product_card", "ingredient_card", "plan", "permission_request"):
        card = shown(kind, {"name": "Resin B", "steps": ["a", "b"]})
        assert "<table" in card
        assert "Resin B" in card


def test_a_transcript_is_shown_request_by_request_with_roles_and_stars() -> None:
    def msg(srid: str, seq: str, role: str, content: str) -> ChatMessage:
        user = "user" if role == "user" else "system"
        return server(
            ChatMessage,
            {"sourceRequestId": srid, "sequence": seq, "componentType": "text",
             "userType": user, "role": role, "Content": content},
        )  # fmt: skip

    session = server(ChatSession, {"id": "ses-1", "name": "Cure", "sourceSessionId": "x"})
    transcript = Transcript(
        session=session,
        messages=(msg("r1", "000", "user", "Q?"), msg("r2", "000", "assistant", "A.")),
        starred=frozenset({("r2", "000")}),
    )

    fragment = transcript._repr_html_()

    assert fragment.count('class="albert-request"') == 2
    assert fragment.index("Q?") < fragment.index("A.")
    assert ">user</bdi></strong>" in fragment
    assert ">assistant</bdi></strong>" in fragment
    assert fragment.count("★") == 2  # the header's count and the starred message
    assert transcript._repr_markdown_() == transcript.to_markdown()


# ---- plain repr --------------------------------------------------------------------


def test_repr_is_short_by_python_name_with_readable_timestamps() -> None:
    session = server(
        ChatSession,
        {
            "id": "ses-1",
            "name": "Cure speed",
            "sourceSessionId": "src-1",
            "parentId": "fld-1",
            "lastMessageAt": "2026-11-01T10:00:00.123Z",
            "Created": {"by": "usr-1", "at": "2026-11-01T09:00:00Z"},
            "kind": "chat",
            "brandNewField": "kept, not shown",
        },
    )

    assert repr(session) == (
        "ChatSession(id='ses-1', name='Cure speed', parent_id='fld-1', kind='chat', "
        "last_message_at=2026-11-01 10:00:00 UTC)"
    )
    assert repr(session.created) == "AuditFields(by='usr-1', at=2026-11-01 09:00:00 UTC)"


def test_a_message_repr_cuts_its_content_and_shows_no_alias() -> None:
    message = server(
        ChatMessage,
        {
            "sourceRequestId": "r1",
            "sequence": "000",
            "componentType": "tool_call",
            "userType": "system",
            "role": "assistant",
            "Content": {"tool": "search_formulations", "arguments": {"q": "x" * 500}},
            "pageContext": {"url": "https://example.com"},
        },
    )

    text = repr(message)

    assert text.startswith(
        "ChatMessage(source_request_id='r1', sequence='000', role='assistant', "
        "component_type='tool_call', content={'tool': 'search_formulations'"
    )
    assert len(text) < 200
    assert not re.search(r"[a-z][A-Z]", text.split("(", 1)[1].split("content=")[0])  # no camelCase
    assert "page_context" not in text  # the main fields only


def test_reprs_of_folders_flags_and_flag_sets() -> None:
    folder = server(ChatFolder, {"id": "fld-1", "name": "Resins", "type": "root"})
    flag = server(
        ChatFlag,
        {"parentId": "ses-1", "sourceRequestId": "r1", "sequence": "000", "type": "starred"},
    )
    flag_set = server(
        ChatFlagsInMessage, {"sourceRequestId": "r1", "flags": ["starred"], "total": 1}
    )

    assert repr(folder) == "ChatFolder(id='fld-1', name='Resins', folder_type='root')"
    assert repr(flag) == (
        "ChatFlag(type='starred', parent_id='ses-1', source_request_id='r1', sequence='000')"
    )
    assert (
        repr(flag_set) == "ChatFlagsInMessage(source_request_id='r1', flags=['starred'], total=1)"
    )


def test_a_timestamp_elsewhere_than_utc_keeps_its_offset() -> None:
    from albert.display._plain import readable_time

    assert readable_time("2026-11-01T10:00:00+02:00") == "2026-11-01 10:00:00+02:00"
    assert readable_time(datetime(2026, 11, 1, tzinfo=timezone.utc)) == "2026-11-01 00:00:00 UTC"
    assert readable_time("yesterday") is None


def test_a_long_list_is_cut_at_200_rows() -> None:
    folders = ResourceList(
        [server(ChatFolder, {"id": f"fld-{i}", "name": f"n{i}"}) for i in range(250)]
    )
    fragment = folders._repr_html_()
    assert fragment.count("<tr>") == 201
    assert "… and 50 more" in fragment
    assert folders == list(folders)  # a list in every other way


def test_a_long_transcript_shows_its_first_500_messages() -> None:
    session = server(ChatSession, {"id": "ses-1", "name": "Long", "sourceSessionId": "x"})
    messages = tuple(
        server(
            ChatMessage,
            {
                "sourceRequestId": f"r{i}",
                "sequence": "000",
                "componentType": "text",
                "userType": "user",
                "role": "user",
                "Content": f"message {i}",
            },
        )
        for i in range(600)
    )

    fragment = Transcript(session=session, messages=messages)._repr_html_()

    assert fragment.count('class="albert-message"') == 500
    assert "… and 100 more messages" in fragment
    assert "600 messages in 600 requests" in fragment
    markdown = Transcript(session=session, messages=messages)._repr_markdown_()
    assert markdown.count("\n## #") == 500  # the notebook stores it too: as light as the HTML
    assert "600 messages, 0 starred; the first 500 are shown here" in markdown
    assert Transcript(session=session, messages=messages).to_markdown().count("\n## #") == 600
