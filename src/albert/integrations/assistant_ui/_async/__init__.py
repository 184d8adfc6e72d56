"""One variant of the assistant-ui thread client and of thread saving.

``_async`` is written by hand; ``_sync`` is generated from it (scripts/unasync.py).
"""
