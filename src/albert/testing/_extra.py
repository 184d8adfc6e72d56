"""The one message shown when the ``testing`` extra (Starlette, uvicorn) is not installed."""

from __future__ import annotations

__all__ = ["EXTRA_MODULES", "MISSING_EXTRA", "missing_extra"]

#: The modules the ``testing`` extra brings.
EXTRA_MODULES = frozenset({"starlette", "uvicorn"})

MISSING_EXTRA = (
    "the Albert emulator (albert.testing) needs the 'testing' extra: "
    "pip install 'albert-chat[testing]'"
)


def missing_extra(exc: ModuleNotFoundError) -> ImportError | None:
    """Return the ImportError to raise instead of ``exc``, if the extra is what is missing.

    Parameters
    ----------
    exc : ModuleNotFoundError
        The error an import raised.

    Returns
    -------
    ImportError | None
        An error that says how to install the extra, or ``None`` when ``exc``
        is about another module (re-raise it as it is).
    """
    root = (exc.name or "").partition(".")[0]
    return ImportError(MISSING_EXTRA, name=exc.name) if root in EXTRA_MODULES else None
