"""The twin primitives that differ by hand between the variants, mapped onto each other by name.

`unasync` cannot turn ``await anyio.sleep(n)`` into a real sleep (it would
leave an un-awaited call), so both variants sleep, lock and run blocking
code in worker threads only through ``async_primitives`` / ``sync_primitives``;
they prefetch pages through ``async_prefetch`` / ``sync_prefetch``, and get
their connection pools from ``async_transport`` / ``sync_transport``.
"""
