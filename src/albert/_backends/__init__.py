"""Sleeping and locking for each variant: the only primitives that differ by hand.

`unasync` cannot turn ``await anyio.sleep(n)`` into a real sleep (it would
leave an un-awaited call), so both variants sleep and lock only through these
two modules, which the generator maps onto each other by name.
"""
