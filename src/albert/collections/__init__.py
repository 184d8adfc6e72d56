"""The documented import paths of the async chat collections.

``albert.collections.chat_sessions.ChatSessionCollection`` takes an
`AsyncAlbertSession`, as documented; the sync twins live in `albert.sync`.
"""
