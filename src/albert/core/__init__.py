"""Variant-free logic shared by the sync and async clients; nothing here does I/O."""
