"""``albert.collections.chat_flags``: the async `ChatFlagCollection`."""

from albert._async.collections.chat_flags import ChatFlagCollection
from albert._public import publish

__all__ = ["ChatFlagCollection"]

publish(__name__, globals(), __all__)
