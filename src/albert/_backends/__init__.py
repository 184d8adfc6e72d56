"""Sleeping, locking and blocking calls for each variant: the primitives that differ by hand.

`unasync` cannot turn ``await anyio.sleep(n)`` into a real sleep (it would
leave an un-awaited call), so both variants sleep, lock and run blocking code
(``run_in_thread``) only through the ``*_primitives`` modules, which the
generator maps onto each other by name. ``login_callback`` is the blocking
half of the SSO login that both variants share: the sync client calls it
directly, the async client runs it in a worker thread.
"""
