"""``albert-chat demo``: the SDK's main job, with both clients, against an in-process emulator.

The walk (`albert.cli._async.demo_walk`, and `albert.cli._sync.demo_walk` generated
from it) creates a folder and a session in it, writes a conversation as the
chat UI does (a user turn, then an assistant turn of several components),
lists it back page by page, stars and edits the answer, exports the session,
and cleans up. It runs once with `albert.Albert` and once with
`albert.AsyncAlbert`; every step prints a line of transcript and checks what
the server answered (`albert.cli.demo_script`). Each walk's header names the
file that holds its code, for a reader to copy.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from types import ModuleType
from typing import TextIO

__all__ = ["PAGE_SIZE", "add_parser", "run", "run_demo", "walk_source"]

#: Items per page of the demo's emulator: small, so the listing takes several pages.
PAGE_SIZE = 4


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subparsers of the ``albert-chat`` parser.
    """
    parser = commands.add_parser(
        "demo",
        help="walk the SDK's main job with both clients against a local emulator",
        description=(
            "Start the Albert emulator in-process and walk the main job with Albert (sync) and "
            "AsyncAlbert (async): folder, session, conversation, paginated listing, star, edit, "
            "export, clean-up."
        ),
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo, printing its transcript on standard output.

    Parameters
    ----------
    args : argparse.Namespace
        No options.

    Returns
    -------
    int
        0 when both walks succeeded.
    """
    run_demo(sys.stdout)
    return 0


def run_demo(out: TextIO) -> None:
    """Start the emulator, walk the main job with both clients, and stop it.

    Parameters
    ----------
    out : TextIO
        Where to print the transcript.

    Raises
    ------
    albert.cli.demo_script.DemoFailed
        If the server answered something unexpected.
    albert.exceptions.AlbertException
        If a call failed.
    """
    import anyio

    from albert.cli._async import demo_walk as async_walk
    from albert.cli._sync import demo_walk as sync_walk
    from albert.cli.demo_assistant import walk_assistant_ui
    from albert.cli.demo_script import Transcript
    from albert.testing import LocalAlbert

    with LocalAlbert(page_size=PAGE_SIZE) as server:
        print(f"Albert emulator on {server.base_url} (pages of {PAGE_SIZE} items)", file=out)
        started = time.perf_counter()

        _header("Albert (sync client)", sync_walk, out)
        sync_walk.walk(server.base_url, server.token, Transcript(out))

        _header("AsyncAlbert (async client)", async_walk, out)
        anyio.run(async_walk.walk, server.base_url, server.token, Transcript(out))

        elapsed = (time.perf_counter() - started) * 1000

        # Further parts of the demo are called here, one line each, from their
        # own module, with the running emulator and `out`.
        walk_assistant_ui(server, out)
    print(f"\nDone: both clients walked the main job in {elapsed:.0f} ms.", file=out)
    print(
        "To read a walk's code, open its file (above) or print it:\n"
        f"  python -m inspect {sync_walk.__name__}\n"
        f"  python -m inspect {async_walk.__name__}",
        file=out,
        flush=True,
    )


def walk_source(module: ModuleType) -> str:
    """Return the path of the file that holds a walk's code.

    Parameters
    ----------
    module : ModuleType
        `albert.cli._sync.demo_walk` or `albert.cli._async.demo_walk`.

    Returns
    -------
    str
        The absolute path of its source file.
    """
    return inspect.getsourcefile(module) or str(module.__file__)


def _header(title: str, module: ModuleType, out: TextIO) -> None:
    package_path = module.__name__.replace(".", "/") + ".py"
    print(f"\n== {title}: the code is {package_path}", file=out)
    print(f"   {walk_source(module)}", file=out, flush=True)
