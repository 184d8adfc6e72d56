"""Progress bars for long work (``progress=True``): a thin adapter over ``tqdm.auto``.

Every call that can take long (each ``get_all``, ``chat_sessions.transcript``,
``chat_sessions.export``, ``albert-chat export``) takes ``progress=``: silent by
default, a bar with ``progress=True``. The bar is tqdm's, from ``tqdm.auto``: its
widget in Jupyter, its text bar on a terminal (on standard error). tqdm is not a
dependency of the SDK: ``pip install 'albert-chat[notebook]'`` brings it with
ipywidgets, which the notebook widget needs. Without it, ``progress=True``
raises an `ImportError` saying so, before anything is sent.

Code of your own that does long work with the SDK can show the same bar::

    from albert.progress import progress_bar

    with progress_bar(True, desc="saving", unit="messages", total=len(messages)) as bar:
        for message in messages:
            client.chat_messages.create(message=message)
            bar.update(1)
"""

from __future__ import annotations

import importlib
from types import TracebackType
from typing import Any, Protocol

__all__ = ["INSTALL_HINT", "ProgressBar", "finish", "progress_bar", "require_progress"]

#: What to install for ``progress=True``.
INSTALL_HINT = "pip install 'albert-chat[notebook]'"


class ProgressBar(Protocol):
    """What the SDK asks of a progress bar: a count that grows, and an end.

    ``tqdm`` bars have this shape, and so has the silent bar `progress_bar`
    returns for ``progress=False``.
    """

    def update(self, n: int = 1) -> Any:
        """Add ``n`` to the count."""

    def close(self) -> None:
        """End the bar (a terminal bar leaves its last line)."""

    def __enter__(self) -> ProgressBar: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any: ...


class _Silent:
    """The bar of ``progress=False``: counts nothing, shows nothing."""

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __repr__(self) -> str:
        return "<silent progress bar>"


def _tqdm() -> Any:
    """Return ``tqdm.auto.tqdm``, or raise the ImportError that says what to install."""
    try:
        module = importlib.import_module("tqdm.auto")
    except ImportError as exc:
        raise ImportError(
            f"progress=True shows a tqdm progress bar, and tqdm is not installed: "
            f"{INSTALL_HINT} (tqdm, and ipywidgets for its notebook widget)"
        ) from exc
    return module.tqdm


def require_progress(progress: bool) -> None:
    """Check, before any work starts, that ``progress=True`` can show its bar.

    Parameters
    ----------
    progress : bool
        The caller's ``progress=`` argument.

    Raises
    ------
    ImportError
        If ``progress`` is true and tqdm is not installed; the message names
        ``pip install 'albert-chat[notebook]'``.
    TypeError
        If ``progress`` is not a bool.
    """
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {type(progress).__name__}")
    if progress:
        _tqdm()


def progress_bar(
    progress: bool,
    *,
    desc: str,
    unit: str = "items",
    total: int | None = None,
) -> ProgressBar:
    """Return a progress bar: tqdm's with ``progress=True``, a silent one otherwise.

    Parameters
    ----------
    progress : bool
        Show a bar at all.
    desc : str
        What is being done, shown before the bar (``"chat messages"``).
    unit : str, optional
        What is counted (``"messages"``).
    total : int | None, optional
        The count at the end, when it is known in advance (a bar, otherwise
        a running count).

    Returns
    -------
    ProgressBar
        Call ``update(n)`` as work is done and ``close()`` at the end, or
        use it in a ``with`` block.

    Raises
    ------
    ImportError
        If ``progress`` is true and tqdm is not installed.
    """
    require_progress(progress)
    if not progress:
        return _Silent()
    bar: ProgressBar = _tqdm()(desc=desc, unit=f" {unit}", total=total, dynamic_ncols=True)
    return bar


def finish(bar: ProgressBar) -> None:
    """Mark the work as done: a bar whose total was only a bound ends full, at its count.

    A listing's ``max_items`` is the most it may yield, not how many there
    are: one that ends sooner has completed, and its bar should not read as
    stopped half-way (tqdm's notebook widget turns red when closed short of
    its total). Call it when the work ends normally, before ``close()``.

    Parameters
    ----------
    bar : ProgressBar
        A bar from `progress_bar` (the silent one is left alone).
    """
    total, count = getattr(bar, "total", None), getattr(bar, "n", None)
    if total is None or count is None or count >= total:
        return
    # tqdm's reset(total=) is what also resizes the notebook widget; keep the
    # time the work started, so that the bar's elapsed time and rate stay true.
    started = getattr(bar, "start_t", None)
    bar.reset(total=count)  # type: ignore[attr-defined]
    if started is not None:
        bar.start_t = started  # type: ignore[attr-defined]
    bar.update(count)
