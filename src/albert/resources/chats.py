"""Chat resources (beta): sessions, messages, folders, flags and their enums."""

from __future__ import annotations

from typing import Any, TypedDict
from uuid import UUID

from pydantic import Field

from albert.resources.base import AuditFields, BaseAlbertModel, BaseResource, ServerEnum, Status

__all__ = [
    "AuditFields",
    "ChatComponentType",
    "ChatFlag",
    "ChatFlagType",
    "ChatFlagsInMessage",
    "ChatFolder",
    "ChatFolderType",
    "ChatMessage",
    "ChatMessageAttachment",
    "ChatRole",
    "ChatSession",
    "ChatSessionKind",
    "ChatSessionRef",
    "ChatUserType",
    "PageContext",
    "Status",
]


class ChatComponentType(ServerEnum):
    """Component type of a chat message.

    The type says how ``content`` is shaped: ``text`` is prose or markdown,
    ``tool_call`` a tool-execution record, ``plan`` a plan card (the user's
    answer travels on the user message as ``plan_action``),
    ``permission_request`` an approval card (the answer travels as
    ``permission_action`` / ``permission_actions``), and so on.
    """

    TEXT = "text"
    IMAGE = "image"
    REASONING_BLOCK = "reasoning_block"
    NOTEBOOK_CITATION = "notebook_citation"
    DOCUMENT_CITATION = "document_citation"
    PRODUCT_CARD = "product_card"
    INGREDIENT_CARD = "ingredient_card"
    TOOL_CALL = "tool_call"
    ERROR = "error"
    PLAN = "plan"
    PERMISSION_REQUEST = "permission_request"


class ChatUserType(ServerEnum):
    """Origin of a chat message (user-submitted vs system-generated)."""

    USER = "user"
    SYSTEM = "system"


class ChatRole(ServerEnum):
    """Chat role for a message, as used by the LLM conversation model."""

    USER = "user"
    ASSISTANT = "assistant"


class ChatFolderType(ServerEnum):
    """Hierarchy level of a chat folder."""

    ROOT = "root"
    CHILD = "child"


class ChatFlagType(ServerEnum):
    """Type of flag that can be applied to a chat message."""

    STARRED = "starred"
    DOWNLOADED = "downloaded"
    REQUESTED = "requested"
    HALLUCINATED = "hallucinated"


class ChatSessionKind(ServerEnum):
    """What made a chat session: a conversation, or an automation run."""

    CHAT = "chat"
    AUTOMATION = "automation"


class PageContext(TypedDict, total=False):
    """The keys the API knows in `ChatMessage.page_context`: the page the user was on.

    Every key is optional, and other keys are kept as sent
    (``page_context`` is a plain ``dict``; build it with
    ``dict(PageContext(url=...))`` to have a type checker check the known keys).
    """

    url: str
    entity: str
    albert_id: str
    parent_id: str
    parent_entity: str
    section: str
    canvas_id: str
    quoted_canvas_ids: list[str]


class ChatSessionRef(BaseAlbertModel):
    """The chat session to notify when an asynchronous job finishes.

    Attributes
    ----------
    source_session_id : UUID
        The session's external (source) id (``sourceSessionId``).
    chat_session_id : str
        The chat session's id (``chatSessionId``), which receives the
        completion message.
    """

    _repr_fields = ("source_session_id", "chat_session_id")

    source_session_id: UUID = Field(alias="sourceSessionId")
    chat_session_id: str = Field(alias="chatSessionId")


class ChatSession(BaseResource):
    """A persistent chat session.

    Attributes
    ----------
    id : str | None
        The session ID assigned by the server.
    name : str
        The display name of the session.
    parent_id : str | None
        Optional folder ID that contains this session.
    source_session_id : str
        External session identifier for linking to a source system.
    last_message_at : str | None
        ISO 8601 timestamp of the most recent message in the session.
    kind : ChatSessionKind | None
        ``chat`` for a conversation, ``automation`` for a session an
        automation run created.
    automation_id : str | None
        The automation that owns the session (``automationId``).
    automation_run_id : str | None
        The automation run that created the session (``automationRunId``).
    """

    _repr_fields = ("id", "name", "parent_id", "kind", "last_message_at")

    id: str | None = Field(default=None)
    name: str
    parent_id: str | None = Field(default=None, alias="parentId")
    source_session_id: str = Field(alias="sourceSessionId")
    last_message_at: str | None = Field(default=None, alias="lastMessageAt")
    kind: ChatSessionKind | None = Field(default=None)
    automation_id: str | None = Field(default=None, alias="automationId")
    automation_run_id: str | None = Field(default=None, alias="automationRunId")


class ChatMessageAttachment(BaseAlbertModel):
    """A file attached to a chat message: display data only, never its content or a URL.

    Attributes
    ----------
    file_id : str
        The attachment's id (``fileId``).
    title : str
        The file's display name.
    kind : str
        The kind of file (``pdf``, ``image``, ``workbook``, ``csv``, ...).
    size_bytes : int | None
        The file's size in bytes (``sizeBytes``).
    parts_summary : str | None
        What the file holds, for people (``partsSummary``, e.g. ``"34 pages"``).
    """

    _repr_fields = ("file_id", "title", "kind", "size_bytes")

    file_id: str = Field(alias="fileId")
    title: str
    kind: str
    size_bytes: int | None = Field(default=None, alias="sizeBytes")
    parts_summary: str | None = Field(default=None, alias="partsSummary")


class ChatMessage(BaseResource):
    """A single message component within a chat session.

    Attributes
    ----------
    id : str | None
        The message ID assigned by the server.
    source_request_id : str | None
        Client-generated request trace identifier. Auto-generated on create if not set.
    sequence : str | None
        Zero-padded position of this component inside its request ("000",
        "001", ...). The API requires it: a create sends "000" when it is not
        set (a new request starts at "000").
    component_type : ChatComponentType
        The type of message component (e.g. text, image, reasoning_block).
    user_type : ChatUserType
        Whether the message originates from a user or the system.
    role : ChatRole
        The LLM conversation role (user or assistant).
    content : str | dict[str, Any]
        Component-type-specific payload; a string or free-form object.
    parent_id : str | None
        The session ID this message belongs to. Present in GET responses;
        derived from the URL path on create.
    component_id : str | None
        Component instance identifier.
    parent_request_id : str | None
        Parent request ID for branched messages.
    branch_index : int | None
        Branch index for branched messages.
    span_id : str | None
        Span/trace identifier.
    is_visible : bool | None
        Whether the component is visible in the UI.
    display_feedback_component : bool | None
        Whether to show the feedback UI for this message.
    value : list[dict] | None
        The server's history records of the message (revisions), not its
        payload (that is ``content``).
    page_context : dict[str, Any] | None
        The page the user was on when they sent the message
        (``pageContext``; known keys in `PageContext`, others kept as sent).
    attachments : list[ChatMessageAttachment] | None
        The files the user attached to the message.
    plan_action : dict[str, Any] | None
        The user's answer to a plan card (``planAction``), on the user message.
    permission_action : dict[str, Any] | None
        The user's answer to one permission card (``permissionAction``);
        superseded by ``permission_actions``.
    permission_actions : list[dict[str, Any]] | None
        Every permission decision sent with the message, as one batch
        (``permissionActions``); when both are set, this list is authoritative.
    """

    _repr_fields = ("source_request_id", "sequence", "role", "component_type", "content")

    id: str | None = Field(default=None)
    source_request_id: str | None = Field(default=None, alias="sourceRequestId")
    sequence: str | None = Field(default=None)
    component_type: ChatComponentType = Field(alias="componentType")
    user_type: ChatUserType = Field(alias="userType")
    role: ChatRole = Field(alias="role")
    content: str | dict[str, Any] = Field(alias="Content")
    parent_id: str | None = Field(default=None, alias="parentId")
    component_id: str | None = Field(default=None, alias="componentId")
    parent_request_id: str | None = Field(default=None, alias="parentRequestId")
    branch_index: int | None = Field(default=None, alias="branchIndex")
    span_id: str | None = Field(default=None, alias="spanId")
    is_visible: bool | None = Field(default=None, alias="isVisible")
    display_feedback_component: bool | None = Field(default=None, alias="displayFeedbackComponent")
    value: list[dict[str, Any]] | None = Field(default=None)
    page_context: dict[str, Any] | None = Field(default=None, alias="pageContext")
    attachments: list[ChatMessageAttachment] | None = Field(default=None)
    plan_action: dict[str, Any] | None = Field(default=None, alias="planAction")
    permission_action: dict[str, Any] | None = Field(default=None, alias="permissionAction")
    permission_actions: list[dict[str, Any]] | None = Field(default=None, alias="permissionActions")


class ChatFolder(BaseResource):
    """A folder used to organise chat sessions.

    Attributes
    ----------
    id : str | None
        The folder ID assigned by the server.
    name : str
        The display name of the folder.
    folder_type : ChatFolderType | None
        Whether this is a root or child folder.
    parent_id : str | None
        Optional parent folder ID for nested folders.
    """

    _repr_fields = ("id", "name", "folder_type", "parent_id")

    id: str | None = Field(default=None)
    name: str
    folder_type: ChatFolderType | None = Field(default=None, alias="type")
    parent_id: str | None = Field(default=None, alias="parentId")


class ChatFlag(BaseResource):
    """A flag applied to a chat message.

    Attributes
    ----------
    source_request_id : str | None
        Request/trace identifier for the flagged message.
    id : str | None
        Message identifier.
    parent_id : str | None
        Parent session ID of the flagged message.
    type : ChatFlagType | None
        The type of flag.
    component_type : ChatComponentType | None
        Component type of the flagged message.
    sequence : str | None
        Zero-padded sequence of the flagged message.
    starred : bool | None
        Whether the message is starred.
    requested : bool | None
        Whether the message is marked as requested.
    downloaded : bool | None
        Whether the message is marked as downloaded.
    hallucinated : bool | None
        Whether the message is marked as hallucinated.
    """

    _repr_fields = ("type", "parent_id", "source_request_id", "sequence", "component_type")

    source_request_id: str | None = Field(default=None, alias="sourceRequestId")
    id: str | None = Field(default=None)
    parent_id: str | None = Field(default=None, alias="parentId")
    type: ChatFlagType | None = Field(default=None)
    component_type: ChatComponentType | None = Field(default=None, alias="componentType")
    sequence: str | None = Field(default=None)
    starred: bool | None = Field(default=None)
    requested: bool | None = Field(default=None)
    downloaded: bool | None = Field(default=None)
    hallucinated: bool | None = Field(default=None)


class ChatFlagsInMessage(BaseAlbertModel):
    """The set of flags applied to a specific chat message.

    Attributes
    ----------
    source_request_id : str | None
        Request/trace identifier for the message.
    total : int | None
        Total number of flags on the message.
    flags : list[ChatFlagType] | None
        List of flag types set on the message.
    """

    _repr_fields = ("source_request_id", "flags", "total")

    source_request_id: str | None = Field(default=None, alias="sourceRequestId")
    total: int | None = None
    flags: list[ChatFlagType] | None = None
