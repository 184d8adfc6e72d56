"""The chat collections: sessions, messages, folders and flags."""
