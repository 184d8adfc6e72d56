"""The public import path of the sync twins: client, session, paginator and collections.

``from albert import Albert`` is all most code needs; import the sync
collections from here to annotate or build them yourself::

    from albert.sync import AlbertSession, ChatSessionCollection
"""

from albert._public import publish
from albert._sync.client import Albert
from albert._sync.collections.chat_flags import ChatFlagCollection
from albert._sync.collections.chat_folders import ChatFolderCollection
from albert._sync.collections.chat_messages import ChatMessageCollection
from albert._sync.collections.chat_sessions import ChatSessionCollection
from albert._sync.paginator import AlbertPaginator
from albert._sync.session import AlbertSession

__all__ = [
    "Albert",
    "AlbertPaginator",
    "AlbertSession",
    "ChatFlagCollection",
    "ChatFolderCollection",
    "ChatMessageCollection",
    "ChatSessionCollection",
]

publish("albert", globals(), ["Albert", "AlbertPaginator", "AlbertSession"])
publish("albert.sync", globals(), [name for name in __all__ if name.startswith("Chat")])
