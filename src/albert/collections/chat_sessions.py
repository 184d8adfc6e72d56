"""``albert.collections.chat_sessions``: the async `ChatSessionCollection`."""

from albert._async.collections.chat_sessions import ChatSessionCollection
from albert._public import publish

__all__ = ["ChatSessionCollection"]

publish(__name__, globals(), __all__)
