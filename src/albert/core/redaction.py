"""Blanking secrets out of text the SDK shows: error messages, parsed error bodies, logs."""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus

__all__ = ["blank_secret"]

#: Secrets shorter than this are blanked as whole words only; longer ones
#: wherever they appear, also percent-encoded (an endpoint may echo a form).
WHOLE_WORD_BELOW = 8


def blank_secret(text: str, secret: str) -> str:
    """Return ``text`` with ``secret`` replaced by ``***`` wherever it is quoted.

    Parameters
    ----------
    text : str
        A message, or a body that may echo the request.
    secret : str
        A token or a client secret; an empty one blanks nothing.

    Returns
    -------
    str
        The text, safe to show. A short secret is blanked as a whole word
        only, so that it does not blank letters out of other words ("PO***T"
        would hint at it).
    """
    if len(secret) >= WHOLE_WORD_BELOW:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")
    elif secret:
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    return text
