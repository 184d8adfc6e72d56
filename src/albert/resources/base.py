"""Base models every Albert resource derives from, and the generic page of a listing."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BaseAlbertModel", "BaseResource", "Page"]


class BaseAlbertModel(BaseModel):
    """Base of every model the SDK sends or receives.

    Fields populate by their Python name or by their wire alias, and fields the
    server adds that the SDK does not know yet are kept (in ``model_extra``),
    never rejected, so a newer server does not break an older SDK.
    """

    model_config = ConfigDict(
        populate_by_name=True,
        extra="allow",
        use_enum_values=False,
    )

    def to_request_body(self) -> dict[str, Any]:
        """Return the JSON body that sends this model to the API.

        Returns
        -------
        dict[str, Any]
            The model dumped by alias, in JSON mode, with the fields the caller
            never set left out.
        """
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


class BaseResource(BaseAlbertModel):
    """Base of the resources the API stores (sessions, messages, folders, flags)."""


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
