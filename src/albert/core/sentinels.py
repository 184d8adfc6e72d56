"""``NOT_GIVEN``: tells "the caller left this argument out" apart from an explicit ``None``."""

from __future__ import annotations

from enum import Enum
from typing import Any, Final, Literal, TypeVar, Union

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = ["NOT_GIVEN", "NotGiven", "NotGivenOr"]


class NotGiven(Enum):
    """The type of `NOT_GIVEN`; its only member is the sentinel."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.is_instance_schema(cls)


#: Default of arguments where leaving them out and passing ``None`` differ.
NOT_GIVEN: Final = NotGiven.NOT_GIVEN

_T = TypeVar("_T")
#: ``NotGivenOr[X]`` is ``X | NotGiven``.
NotGivenOr = Union[_T, NotGiven]  # noqa: UP007
