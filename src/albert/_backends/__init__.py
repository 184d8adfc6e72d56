"""The twins the generator maps onto each other by name, written by hand in each variant.

`unasync` cannot turn ``await anyio.sleep(n)`` into a real sleep (it would
leave an un-awaited call), so both variants sleep, lock, read the clock and
run blocking code in worker threads only through ``async_primitives`` /
``sync_primitives``; they read a page ahead through ``async_prefetch`` /
``sync_prefetch`` (a background task, or nothing), and make a listing
awaitable through ``async_listing`` / ``sync_listing`` (or not). Which
transports a client gets is in `albert._transports`.
"""
