"""The ``albert`` logger, and ``ALBERT_LOG=debug|info`` to send it to stderr.

Log records carry methods, URLs, statuses, timings and retry reasons; never a
header, a token or a secret.
"""

from __future__ import annotations

import logging
import os

__all__ = ["logger", "setup_logging_from_env"]

logger = logging.getLogger("albert")
# A library stays silent until the application configures logging (no
# "last resort" printing of retry warnings to stderr).
logger.addHandler(logging.NullHandler())

ENV_LOG = "ALBERT_LOG"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_configured = False


def setup_logging_from_env() -> None:
    """Install a stderr handler on the ``albert`` logger when ``ALBERT_LOG`` asks for one.

    ``ALBERT_LOG=debug`` logs every attempt; ``ALBERT_LOG=info`` logs retries
    and token refreshes. Runs once per process; an unknown value is ignored.
    """
    global _configured
    if _configured:
        return
    _configured = True
    level = _LEVELS.get(os.environ.get(ENV_LOG, "").strip().lower())
    if level is None:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s %(name)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
