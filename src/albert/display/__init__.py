"""How resources look to people: HTML for Jupyter, Markdown and JSON for exports; no I/O.

Both clients call this rendering, once written: the models' ``_repr_html_``,
`albert.resources.transcripts.Transcript` and ``albert-chat export`` all come
here. What the server sent is always escaped (see `albert.display.to_html`).
"""

from __future__ import annotations

from typing import Any

from albert._public import publish
from albert.display._export import FORMATS, ExportRenderer
from albert.display._html import image_url, link_url

__all__ = ["FORMATS", "ExportRenderer", "image_url", "link_url", "to_html"]


def to_html(value: Any) -> str:
    """Return the HTML Jupyter shows for a resource, a list of them, or a transcript.

    Parameters
    ----------
    value : Any
        A model of the SDK (`ChatSession`, `ChatMessage`, `ChatFolder`,
        `ChatFlag`, `ChatFlagsInMessage`, ...), a list of them (a page of a
        listing), or a `Transcript`.

    Returns
    -------
    str
        An HTML fragment with inline styles. Every text the server sent is
        escaped: nothing in it runs as HTML or script, and an image or a link
        is only made of an http(s) URL (or, for an image, a PNG, JPEG, GIF or
        WebP ``data:`` URL).

    Raises
    ------
    TypeError
        For a value of another kind.
    """
    from pydantic import BaseModel

    from albert.display import _html
    from albert.resources.transcripts import Transcript

    if isinstance(value, Transcript):
        return _html.transcript_html(value)
    if isinstance(value, BaseModel):
        return _html.resource_html(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, BaseModel) for v in value):
        return _html.resources_html(list(value))
    raise TypeError(f"cannot show a {type(value).__name__} as HTML")


publish(__name__, globals(), ["ExportRenderer", "image_url", "link_url"])
