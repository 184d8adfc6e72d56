"""Base models every Albert resource derives from, and the generic page of a listing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from albert._sendable import RESOURCE_DEPTH, check_json

__all__ = [
    "AuditFields",
    "BaseAlbertModel",
    "BaseResource",
    "Page",
    "ResourceList",
    "ServerEnum",
    "Status",
    "validate_server_json",
    "validate_server_python",
]

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")

#: True while a server's answer is validated (`validate_server_json`).
_FROM_SERVER: ContextVar[bool] = ContextVar("albert_from_server", default=False)


def _as_server_data(call: Callable[[Any], T], data: Any) -> T:
    # Read by ServerEnum._missing_; set and reset around one synchronous call.
    token = _FROM_SERVER.set(True)
    try:
        return call(data)
    finally:
        _FROM_SERVER.reset(token)


def validate_server_json(model: type[ModelT], data: bytes | str) -> ModelT:
    """Validate a server's JSON answer into ``model``, keeping what this SDK does not know yet.

    Parameters
    ----------
    model : type[ModelT]
        The pydantic model (a resource, or a `Page` of them).
    data : bytes | str
        The response body.

    Returns
    -------
    ModelT
        The validated model. What the API added after this SDK was released
        is kept instead of failing the whole answer: a field the model does
        not know lands in ``model_extra`` (a model built by your own code
        refuses it, so that a typo is caught), and a `ServerEnum` field
        holding a new value keeps it, as a member made for it.

    Raises
    ------
    pydantic.ValidationError
        If the body is not JSON or does not fit ``model``.
    """
    # Server data may carry fields added after this SDK: kept, not refused.
    return _as_server_data(lambda body: model.model_validate_json(body, extra="allow"), data)


def validate_server_python(model: type[ModelT], data: Any) -> ModelT:
    """Validate a server's answer, already parsed, into ``model``; see `validate_server_json`.

    Parameters
    ----------
    model : type[ModelT]
        The pydantic model.
    data : Any
        The parsed answer (a dict, for a resource).

    Returns
    -------
    ModelT
        The validated model, keeping fields and enum values this SDK does
        not know yet.

    Raises
    ------
    pydantic.ValidationError
        If ``data`` does not fit ``model``.
    """
    return _as_server_data(lambda value: model.model_validate(value, extra="allow"), data)


def _server_member(enum: type[ServerEnum], value: str) -> ServerEnum:
    """Rebuild an enum member, also one made for a value the server added (unpickling)."""
    return _as_server_data(enum, value)


class ServerEnum(str, Enum):
    """An enum of the API whose values the server may add to.

    What the caller passes must be one of the members; what the server sends
    (see `validate_server_json`) may also be a value this SDK does not know
    yet: it becomes a member made for it, equal to its string, so that one new
    message type does not make a whole listing fail. Such a member is not
    listed when the enum is iterated, its name is ``UNKNOWN``, and it
    pickles. Data kept from the server (JSON saved to a file, say) is read back
    with `validate_server_json`, as the SDK reads the server's answers.
    """

    @classmethod
    def _missing_(cls, value: object) -> ServerEnum | None:
        if not isinstance(value, str) or not _FROM_SERVER.get():
            return None  # the caller's input stays strict
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"  # never a member's name: .name and repr cannot mislead
        member._value_ = value
        return member

    def __reduce_ex__(self, protocol: Any) -> Any:
        return _server_member, (type(self), self._value_)


class BaseAlbertModel(BaseModel):
    """Base of every model the SDK sends or receives.

    Fields populate by their Python name or by their wire alias. A model your
    code builds refuses a field it does not have (``ChatSession(nmae=...)``
    raises a ``pydantic.ValidationError`` naming ``nmae``), so a typo is never
    sent as an unknown field and silently ignored. What the server sends is
    validated with `validate_server_json`, which keeps the fields a newer API
    added in ``model_extra`` instead, so a newer server does not break an
    older SDK. Assigning to a field validates the value, as building the
    model does.
    """

    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        use_enum_values=False,
        validate_assignment=True,
    )

    #: The fields a plain repr (and a table of several) shows, in order; all when empty.
    _repr_fields: ClassVar[tuple[str, ...]] = ()

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Short, by Python name: the main fields that hold something, enum
        # values, readable timestamps, content cut off; never every field.
        from albert.display._plain import Shown, readable_time, shown

        names = self._repr_fields or tuple(type(self).model_fields)
        for name in names:
            value = getattr(self, name, None)
            if value is None:
                continue
            if name.endswith("_at") and isinstance(value, str):
                readable = readable_time(value)
                yield name, Shown(readable) if readable else shown(value)
            else:
                yield name, shown(value)

    def _repr_html_(self) -> str:
        """Return the HTML Jupyter shows for this resource (see `albert.display.to_html`)."""
        from albert.display._html import resource_html

        return resource_html(self)

    def to_request_body(self, *, name: str | None = None) -> dict[str, Any]:
        """Return the JSON body that sends this model to the API.

        Parameters
        ----------
        name : str | None, optional
            What the model is called where it was passed (``"message"``), for
            error messages; the class name by default.

        Returns
        -------
        dict[str, Any]
            The model dumped by alias, in JSON mode, with the fields the caller
            never set left out.

        Raises
        ------
        ValueError
            If a field holds what JSON cannot carry (NaN, an infinity, a lone
            surrogate, bytes that are not UTF-8), or is nested deeper than
            this SDK could read back once stored; the message names the field.
        """
        check_json(self, name=name or type(self).__name__, max_depth=RESOURCE_DEPTH)
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


class Status(ServerEnum):
    """The status of a resource the API stores."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class AuditFields(BaseAlbertModel):
    """Who created or last changed a resource, and when (read from the server).

    Attributes
    ----------
    by : str | None
        The id of the user.
    by_name : str | None
        The user's display name (``byName`` on the wire).
    at : datetime | None
        When it happened.
    """

    _repr_fields = ("by", "by_name", "at")

    by: str | None = Field(default=None)
    by_name: str | None = Field(default=None, alias="byName")
    at: datetime | None = Field(default=None)


class BaseResource(BaseAlbertModel):
    """Base of the resources the API stores (sessions, messages, folders, flags).

    Attributes
    ----------
    status : Status | None
        The resource's status (``active`` or ``inactive``), when the server sends one.
    created : AuditFields | None
        Who created the resource and when (``Created`` on the wire); read-only.
    updated : AuditFields | None
        Who last changed the resource and when (``Updated`` on the wire); read-only.
    """

    status: Status | None = Field(default=None)
    created: AuditFields | None = Field(default=None, alias="Created", frozen=True)
    updated: AuditFields | None = Field(default=None, alias="Updated", frozen=True)


ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(BaseModel, Generic[ItemT]):
    """One page of a key-based listing: ``{"Items": [...], "lastKey": "..."}``.

    A page is validated straight from the response bytes with
    ``Page[Model].model_validate_json``, in one pass.

    Attributes
    ----------
    items : list
        The resources on this page.
    last_key : str | None
        The key to ask for the next page with, or ``None`` on the last page.
    """

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    items: list[ItemT] = Field(default_factory=list, alias="Items")
    last_key: str | None = Field(default=None, alias="lastKey")


class ResourceList(list[ItemT]):
    """A list of resources that Jupyter shows as a table, a row per item.

    What a paginator's ``pages()`` yields: a plain ``list`` in every other
    way. Wrap any list of resources to see it as a table, a whole listing
    for instance: ``ResourceList(client.chat_sessions.get_all())``.
    """

    def _repr_html_(self) -> str:
        """Return the HTML table Jupyter shows (see `albert.display.to_html`)."""
        from albert.display._html import resources_html

        return resources_html(self)
