"""``albert-chat serve``: run the local Albert emulator until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import re
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from albert.testing.app import EmulatorApp

__all__ = ["DEFAULT_PORT", "add_parser", "base_url_for", "byte_size", "positive_int", "run"]

#: The port ``serve`` listens on, and ``export --local`` talks to, by default.
DEFAULT_PORT = 8765
#: The default of ``--max-body-size`` (the emulator's, 10 MiB; not imported: it loads Starlette).
DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024


def positive_int(text: str) -> int:
    """Parse a command-line integer that must be at least 1.

    Parameters
    ----------
    text : str
        The argument.

    Returns
    -------
    int
        Its value.

    Raises
    ------
    argparse.ArgumentTypeError
        If it is not an integer of 1 or more.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


_SIZE = re.compile(r"([0-9]{1,15})\s*([kmg]?)i?b?", re.IGNORECASE)


def byte_size(text: str) -> int:
    """Parse a size in bytes: a number, optionally with K, M or G (powers of 1024).

    Parameters
    ----------
    text : str
        The argument, e.g. ``1048576``, ``512K``, ``10M``, ``1GiB``.

    Returns
    -------
    int
        The size in bytes.

    Raises
    ------
    argparse.ArgumentTypeError
        If it is not a size of 1 byte or more.
    """
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 1048576, 512K or 10M)")
    unit: str = match[2] or " "
    value = int(match[1]) << (10 * " kmg".index(unit.lower()))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 byte or more, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 0 and 65535, got {value}")
    return value


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subparsers of the ``albert-chat`` parser.
    """
    parser = commands.add_parser(
        "serve",
        help="serve the local Albert emulator",
        description=(
            "Serve an emulator of the Albert chat API and print how to connect to it. Only "
            "the credentials it is started with get in (the private /_emulator/ routes "
            "included); given none, it makes a token and client credentials and prints them."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to listen on; 0 picks a free one (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--db", metavar="PATH", help="SQLite file that keeps the data across restarts"
    )
    parser.add_argument(
        "--token",
        help=(
            "the bearer token to accept, and the only credential unless --sso-email adds "
            "logins (default: what --db remembers, else a random token and a client id and "
            "secret for the token endpoint, printed)"
        ),
    )
    parser.add_argument(
        "--sso-email",
        action="append",
        metavar="EMAIL",
        dest="sso_emails",
        help=(
            "let this e-mail log in with SSO (repeatable); the emulator's login page asks "
            "no password, so anyone who can reach it can log in as them (default: SSO off)"
        ),
    )
    parser.add_argument(
        "--page-size",
        type=positive_int,
        default=50,
        metavar="N",
        help="items per page of every listing (default 50)",
    )
    parser.add_argument(
        "--max-body-size",
        type=byte_size,
        default=DEFAULT_MAX_BODY_SIZE,
        metavar="SIZE",
        help="largest request body accepted, in bytes or with K, M or G (default 10M); "
        "larger ones are answered 413",
    )
    parser.set_defaults(run=run)


def base_url_for(host: str, port: int) -> str:
    """Return the URL a client uses to reach a server listening on ``host:port``.

    Parameters
    ----------
    host : str
        The listening address; a wildcard (``0.0.0.0``, ``::``) is reached on
        the loopback address.
    port : int
        The port.

    Returns
    -------
    str
        For example ``http://127.0.0.1:8765``.
    """
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into a KeyboardInterrupt for the time of the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_access(app: EmulatorApp, base_url: str, out: TextIO) -> None:
    """Print how to reach the emulator, and every credential it accepts."""
    print(f"Albert emulator serving on {base_url}", file=out)
    print("Point the SDK (or albert-chat export) at it with:", file=out)
    print(f"  export ALBERT_BASE_URL={base_url}", file=out)
    print(f"  export ALBERT_TOKEN={app.token}", file=out)
    for client_id, secret in app.client_credentials.items():
        print("or, through the token endpoint, with the client credentials:", file=out)
        print(f"  export ALBERT_CLIENT_ID={client_id}", file=out)
        print(f"  export ALBERT_CLIENT_SECRET={secret}", file=out)
    if app.sso_emails:
        emails = ", ".join(sorted(app.sso_emails))
        print(f"SSO logins (no password asked): {emails}", file=out)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Serve the emulator until interrupted (Ctrl+C or SIGTERM).

    Parameters
    ----------
    args : argparse.Namespace
        ``host``, ``port``, ``db``, ``token``, ``sso_emails``, ``page_size`` and
        ``max_body_size``.
    out : TextIO | None, optional
        Where to print how to connect (default: standard output).

    Returns
    -------
    int
        0 once stopped.
    """
    # The emulator's modules (not uvicorn) first: they say which extra is missing.
    from albert.testing.app import EmulatorApp
    from albert.testing.server import bind_socket

    out = out or sys.stdout
    sock = bind_socket(args.host, args.port)
    # Listening before the URL is printed: a client that connects at once
    # waits in the backlog until uvicorn accepts, instead of being refused.
    sock.listen(2048)
    try:
        app = EmulatorApp(
            db_path=args.db,
            token=args.token,
            sso_emails=args.sso_emails,
            page_size=args.page_size,
            max_body_size=args.max_body_size,
        )
        try:
            base_url = base_url_for(args.host, int(sock.getsockname()[1]))
            _print_access(app, base_url, out)
            kept = f"in {args.db}" if args.db else "in memory (--db PATH keeps it)"
            print(f"Data is kept {kept}; press Ctrl+C to stop.", file=out, flush=True)
            if not _is_loopback(args.host):
                print(
                    f"warning: listening on {args.host} makes the emulator reachable "
                    "from other machines",
                    file=sys.stderr,
                )
            import uvicorn  # installed: albert.testing.server imported it above

            config = uvicorn.Config(
                app, log_level="warning", access_log=False, lifespan="off", ws="none"
            )
            # uvicorn shuts down gracefully on Ctrl+C and SIGTERM, then raises the signal
            # again: end up here either way, so the store is closed and the file complete.
            with _sigterm_as_interrupt(), contextlib.suppress(KeyboardInterrupt):
                uvicorn.Server(config).run(sockets=[sock])
        finally:
            app.close()
    finally:
        sock.close()
    print("Albert emulator stopped.", file=out, flush=True)
    return 0
