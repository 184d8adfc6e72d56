"""Pydantic models of the Albert API's resources, shared by the sync and async clients."""
