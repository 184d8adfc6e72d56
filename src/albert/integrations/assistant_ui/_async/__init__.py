"""One variant of the assistant-ui thread client and of thread saving.

The asynchronous tree is written by hand; the synchronous one is generated from
it by scripts/unasync.py.
"""
