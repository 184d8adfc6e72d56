"""``albert.collections.chat_flags``: the async `ChatFlagCollection`."""

from albert._async.collections.chat_flags import ChatFlagCollection

__all__ = ["ChatFlagCollection"]
