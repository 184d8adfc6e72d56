"""Telling the user, at ``import albert``, that another distribution also installs ``albert``.

Two distributions install a top-level ``albert`` package: this SDK
(``albert-chat``) and the Albert platform's own SDK (``albert``). Installed in
one environment they write the same files, so whichever was installed last
silently breaks the other, and uninstalling either leaves ``albert`` broken
for both. Only the metadata directories beside this package are looked at
(one directory listing, no ``importlib.metadata`` scan), so the check costs
next to nothing on every import.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["AlbertInstallWarning", "conflicting_distributions", "warn_if_shared"]

#: The distribution this package comes from.
DISTRIBUTION = "albert-chat"
#: Metadata directory names of the distributions that install an ``albert``
#: package too (names are normalised: ``albert-chat``'s is ``albert_chat-…``).
_OTHERS = ("albert-",)
_SUFFIXES = (".dist-info", ".egg-info")


class AlbertInstallWarning(UserWarning):
    """Another installed distribution provides the ``albert`` package too."""

    __module__ = "albert.exceptions"  # its public path


def conflicting_distributions(site_dir: str) -> list[str]:
    """Return the other distributions in ``site_dir`` that install an ``albert`` package.

    Parameters
    ----------
    site_dir : str
        The directory this package is installed in (``site-packages``).

    Returns
    -------
    list[str]
        ``"albert 1.68.0"`` and the like, sorted; empty when there are none
        or the directory cannot be listed.
    """
    try:
        names = os.listdir(site_dir)
    except OSError:
        return []
    found = []
    for name in names:
        if name.startswith(_OTHERS) and name.endswith(_SUFFIXES):
            stem = name.rsplit(".", 1)[0]
            distribution, _, version = stem.partition("-")
            found.append(f"{distribution} {version.split('-')[0]}".strip())
    return sorted(found)


def warn_if_shared(package_dir: str, version: str) -> None:
    """Warn (`AlbertInstallWarning`) if another distribution installed ``albert`` here too.

    Parameters
    ----------
    package_dir : str
        The directory of this ``albert`` package.
    version : str
        This distribution's version, for the message.
    """
    site_dir = os.path.dirname(package_dir)
    others = conflicting_distributions(site_dir)
    if not others:
        return
    warnings.warn(
        f"{' and '.join(others)} is installed beside {DISTRIBUTION} {version} in {site_dir}, "
        "and both install the 'albert' package: they write the same files, so whichever "
        "was installed last has broken the other, and uninstalling either one leaves "
        "'albert' broken. Keep them in separate virtual environments, or reinstall this "
        f"one alone: pip uninstall -y albert {DISTRIBUTION} && pip install {DISTRIBUTION}",
        AlbertInstallWarning,
        stacklevel=3,
    )
