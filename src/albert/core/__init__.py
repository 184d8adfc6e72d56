"""Variant-free logic that both clients call, doing no I/O of its own.

Configuration and the environment (``config``), the token endpoints' wire
format (``auth``), retry decisions (``retry``) and the overall time limit of a
call (``deadline``), URLs, queries and pagination, responses turned into models
or errors (``responses``, ``messages``), redaction of secrets, the
``NOT_GIVEN`` sentinel (``sentinels``), and the ``albert`` logger (``logs``).
"""
