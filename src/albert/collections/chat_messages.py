"""``albert.collections.chat_messages``: the async `ChatMessageCollection`."""

from albert._async.collections.chat_messages import ChatMessageCollection

__all__ = ["ChatMessageCollection"]
