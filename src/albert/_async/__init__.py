"""One variant of the client (client, session, token provider, paginator, collections).

The non-blocking tree is written by hand; the blocking one is generated from it
by ``scripts/unasync.py`` and never edited.
"""
