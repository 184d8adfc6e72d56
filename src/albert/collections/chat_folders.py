"""``albert.collections.chat_folders``: the async `ChatFolderCollection`."""

from albert._async.collections.chat_folders import ChatFolderCollection
from albert._public import publish

__all__ = ["ChatFolderCollection"]

publish(__name__, globals(), __all__)
