"""The overall time limit of one call (``total_timeout``): retries and their waits included.

``timeout`` bounds each attempt; with retries, one call makes up to
``max_retries + 1`` attempts and waits between them (up to 60 s each when the
server asks with ``Retry-After``), so by default a call can take minutes. A
`Deadline` bounds the whole: a wait that would pass it is not taken, and each
attempt's timeouts are cut to the time left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx

from albert.exceptions import AlbertTimeoutError

__all__ = ["Deadline", "resolve_total_timeout"]


def resolve_total_timeout(total_timeout: float | None) -> float | None:
    """Return ``total_timeout`` checked: ``None`` (no overall limit) or seconds above zero.

    Parameters
    ----------
    total_timeout : float | None
        The caller's value.

    Returns
    -------
    float | None
        The seconds, as a float.

    Raises
    ------
    TypeError
        If it is neither ``None`` nor a number.
    ValueError
        If it is not a finite number above zero.
    """
    if total_timeout is None:
        return None
    if isinstance(total_timeout, bool) or not isinstance(total_timeout, int | float):
        raise TypeError(
            f"total_timeout must be seconds or None, got {type(total_timeout).__name__}"
        )
    if not (math.isfinite(total_timeout) and total_timeout > 0):
        raise ValueError(f"total_timeout must be more than 0 seconds, got {total_timeout}")
    return float(total_timeout)


@dataclass
class Deadline:
    """When one call must be over, on the ``monotonic`` clock of its variant.

    Parameters
    ----------
    seconds : float
        The call's ``total_timeout``.
    ends_at : float
        The monotonic time it ends.

    Attributes
    ----------
    cut : bool
        Whether the latest attempt's timeouts were cut to the time left (its
        timing out then means the deadline was reached).
    """

    seconds: float
    ends_at: float
    cut: bool = False

    @classmethod
    def starting(cls, seconds: float, now: float) -> Deadline:
        """Return the deadline of a call of ``seconds`` that starts ``now``."""
        return cls(seconds=seconds, ends_at=now + seconds)

    def left(self, now: float) -> float:
        """Return the seconds left (never negative)."""
        return max(0.0, self.ends_at - now)

    def allows_wait(self, wait: float, now: float) -> bool:
        """Tell whether waiting ``wait`` seconds still leaves time for another attempt."""
        return now + wait < self.ends_at

    def attempt_timeout(self, timeout: httpx.Timeout, now: float) -> httpx.Timeout:
        """Return ``timeout`` with every phase cut to the time left, and record whether it was.

        Parameters
        ----------
        timeout : httpx.Timeout
            The session's timeout of one attempt.
        now : float
            The monotonic time the attempt starts.

        Returns
        -------
        httpx.Timeout
            The timeout to send the attempt with.
        """
        left = self.left(now)
        phases = timeout.as_dict()
        cut = {
            phase: left if seconds is None or seconds > left else seconds
            for phase, seconds in phases.items()
        }
        self.cut = cut != phases
        return httpx.Timeout(**cut) if self.cut else timeout

    def reached(
        self, *, method: str, url: str, attempts: int, last: BaseException, wait: float | None
    ) -> AlbertTimeoutError:
        """Return the error that says the call ran out of time (raise it ``from last``).

        Parameters
        ----------
        method, url : str
            The request.
        attempts : int
            How many attempts were made.
        last : BaseException
            The last attempt's failure.
        wait : float | None
            The wait that was not taken, or ``None`` when the last attempt
            itself ran out of time.

        Returns
        -------
        AlbertTimeoutError
            Its message names ``total_timeout`` and the last failure.
        """
        why = (
            f"the last attempt ran out of the time left ({type(last).__name__})"
            if wait is None
            else f"waiting {wait:.1f} s to retry would pass it"
        )
        plural = "" if attempts == 1 else "s"
        return AlbertTimeoutError(
            f"{method} {url}: total_timeout of {self.seconds:g} s reached after {attempts} "
            f"attempt{plural}: {why}; last failure: {last}",
            method=method,
            url=url,
        )
