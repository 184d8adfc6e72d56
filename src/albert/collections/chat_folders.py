"""``albert.collections.chat_folders``: the async `ChatFolderCollection`."""

from albert._async.collections.chat_folders import ChatFolderCollection

__all__ = ["ChatFolderCollection"]
