"""``albert.collections.chat_messages``: the async `ChatMessageCollection`."""

from albert._async.collections.chat_messages import ChatMessageCollection
from albert._public import publish

__all__ = ["ChatMessageCollection"]

publish(__name__, globals(), __all__)
