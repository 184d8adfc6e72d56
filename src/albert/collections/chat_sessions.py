"""``albert.collections.chat_sessions``: the async `ChatSessionCollection`."""

from albert._async.collections.chat_sessions import ChatSessionCollection

__all__ = ["ChatSessionCollection"]
