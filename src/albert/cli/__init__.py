"""The ``albert-chat`` command: serve the local emulator, run the demo, export a session.

One module per subcommand (`albert.cli.serve`, `albert.cli.demo`,
`albert.cli.export`); the demo's script and printing are in
`albert.cli.demo_script`, its assistant-ui part in `albert.cli.demo_assistant`,
and its walk is written once in ``albert.cli._async`` and generated into
``albert.cli._sync``. Each imports what it needs when it runs, so
``albert-chat --help`` loads neither httpx nor the emulator. A failure prints
one line on standard error and exits with status 1 (``--debug`` shows the
traceback instead).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from albert._version import __version__

__all__ = ["build_parser", "main"]

PROG = "albert-chat"


def build_parser() -> argparse.ArgumentParser:
    """Return the command line's parser, with a subparser per command.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subcommand sets ``run``, the function that runs it.
    """
    from albert.cli import demo, export, serve

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The Albert chat SDK's command line: a local emulator, a demo, exports.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback when a command fails"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.add_parser(commands)
    demo.add_parser(commands)
    export.add_parser(commands)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Parameters
    ----------
    argv : Sequence[str] | None, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when the command failed (one line on standard
        error), 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    from albert.exceptions import AlbertException

    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (AlbertException, OSError, ValueError, ImportError, RuntimeError) as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    return status
