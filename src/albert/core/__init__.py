"""Variant-free logic that both clients call, doing no I/O of its own.

Configuration and the environment (``config``), the token endpoints' wire
format (``auth``), retry decisions (``retry``), URLs, queries and pagination,
responses turned into models or errors (``responses``, ``messages``),
redaction of secrets, and the ``albert`` logger.
"""
