"""``albert-chat export``: a chat session and its messages as Markdown or JSON.

The export streams: each page of messages is written as it arrives, so a
session of any size exports in the memory of one page (the walk is
`albert.sync`'s ``chat_sessions.export``, generated from the async one; the
rendering is `albert.display.ExportRenderer`). With ``--out`` the text goes
to a temporary file beside FILE, renamed to FILE once complete: a failed
export leaves no half-written file. A progress bar is shown on a terminal
when the ``notebook`` extra (tqdm) is installed, unless the export itself
is printed on that terminal.

`export_session` (sync) and `export_session_async` read a whole session into
a `Transcript`; `render` turns one into text, as the command writes it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from albert.display import FORMATS

if TYPE_CHECKING:
    from albert import Albert, AsyncAlbert
    from albert.resources.transcripts import Transcript

__all__ = [
    "FORMATS",
    "add_parser",
    "export_session",
    "export_session_async",
    "render",
    "run",
]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export`` command.

    Parameters
    ----------
    commands : argparse._SubParsersAction
        The subparsers of the ``albert-chat`` parser.
    """
    from albert.cli.serve import DEFAULT_PORT

    parser = commands.add_parser(
        "export",
        help="export a chat session and its messages",
        description=(
            "Export a chat session and its messages from the service that ALBERT_BASE_URL "
            "names, with ALBERT_TOKEN (or ALBERT_CLIENT_ID and ALBERT_CLIENT_SECRET); "
            "or, with --local, from the local emulator."
        ),
    )
    parser.add_argument("session_id", metavar="SESSION_ID", help="the id of the session")
    parser.add_argument(
        "--format", choices=FORMATS, default="md", help="md (Markdown, the default) or json"
    )
    parser.add_argument("--out", metavar="FILE", help="file to write (default: standard output)")
    parser.add_argument(
        "--force", action="store_true", help="with --out: overwrite FILE if it exists"
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help=(
            "export from the local emulator: the one 'albert-chat serve' runs "
            f"(ALBERT_BASE_URL, default http://127.0.0.1:{DEFAULT_PORT}, and the "
            "ALBERT_TOKEN it printed), or with --db straight from its SQLite file"
        ),
    )
    parser.add_argument(
        "--db", metavar="PATH", help="with --local: the emulator's SQLite file (nothing to run)"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=(
            "show a progress bar on standard error (default: on a terminal, when tqdm is "
            "installed: pip install 'albert-chat[notebook]')"
        ),
    )
    parser.set_defaults(run=run)


def export_session(client: Albert, session_id: str, *, progress: bool = False) -> Transcript:
    """Read a session, all its messages and its starred flags with a sync client.

    Parameters
    ----------
    client : Albert
        The client.
    session_id : str
        The session.
    progress : bool, optional
        Show a progress bar of the messages read.

    Returns
    -------
    Transcript
        Ready for `render` (``client.chat_sessions.transcript(id=session_id)``).
    """
    return client.chat_sessions.transcript(id=session_id, progress=progress)


async def export_session_async(
    client: AsyncAlbert, session_id: str, *, progress: bool = False
) -> Transcript:
    """Read a session, all its messages and its starred flags with an async client.

    Parameters
    ----------
    client : AsyncAlbert
        The client.
    session_id : str
        The session.
    progress : bool, optional
        Show a progress bar of the messages read.

    Returns
    -------
    Transcript
        Ready for `render`.
    """
    return await client.chat_sessions.transcript(id=session_id, progress=progress)


def render(export: Transcript, fmt: str = "md") -> str:
    """Return a transcript as Markdown (``"md"``) or JSON (``"json"``), as the command writes it.

    Parameters
    ----------
    export : Transcript
        What `export_session` read.
    fmt : str, optional
        ``"md"`` (the default) or ``"json"``.

    Returns
    -------
    str
        The text, ending with a newline.

    Raises
    ------
    ValueError
        For another format.
    """
    from albert.display import ExportRenderer

    return ExportRenderer(fmt, starred=export.starred).render(export.session, export.messages)


def _client(local: bool) -> Albert:
    """Return a client for the service the environment names (the emulator's URL with local)."""
    from albert import Albert
    from albert.auth.managers import AlbertClientCredentials, auth_from_env
    from albert.cli.serve import DEFAULT_PORT
    from albert.exceptions import AlbertAuthError

    base_url = None
    if local and not os.environ.get("ALBERT_BASE_URL"):
        base_url = f"http://127.0.0.1:{DEFAULT_PORT}"
    try:
        credentials = auth_from_env()
    except AlbertAuthError as exc:
        if not local:
            raise
        raise AlbertAuthError(
            f"{exc} For --local: export the ALBERT_TOKEN that 'albert-chat serve' printed, "
            "or read its file with --db PATH."
        ) from None
    if isinstance(credentials, str):
        return Albert(base_url=base_url, token=credentials)
    if base_url is not None:
        credentials = AlbertClientCredentials(
            id=credentials.id, secret=credentials.secret, base_url=base_url
        )
    return Albert(auth_manager=credentials)


#: Items per page when exporting from an emulator's file (fewer round trips than 50).
_FILE_PAGE_SIZE = 500


@contextlib.contextmanager
def _file_client(path: str) -> Iterator[Albert]:
    """Serve an emulator's SQLite file, opened read-only, and yield a client of it.

    The file is served by an emulator of its own, on a random port with a
    random token, that never writes to it: no table, no journal mode, no
    token is added to a file that is not the emulator's (it is refused).
    """
    import secrets

    from albert.testing.app import EmulatorApp
    from albert.testing.server import LocalAlbert
    from albert.testing.store import SQLiteStore

    store = SQLiteStore(path, read_only=True)
    try:
        app = EmulatorApp(
            store=store,
            token=f"export-{secrets.token_urlsafe(16)}",
            page_size=_FILE_PAGE_SIZE,
        )
        with LocalAlbert(app=app) as server, server.client() as client:
            yield client
    finally:
        store.close()


def _show_progress(asked: bool | None, *, to_file: bool) -> bool:
    """``--progress``/``--no-progress``, or by default: on a terminal, when tqdm is there.

    As curl does, no bar by default when the export itself is printed on that
    terminal: it would be drawn across the text.
    """
    if asked is not None:
        return asked
    if not sys.stderr.isatty() or (not to_file and sys.stdout.isatty()):
        return False
    return importlib.util.find_spec("tqdm") is not None


def _print(pieces: Iterator[str]) -> int:
    """Write ``pieces`` to standard output; 0, or 1 when its reader went away (``| head``)."""
    try:
        with contextlib.closing(pieces):  # type: ignore[type-var]  # a generator: stop its read
            for piece in pieces:
                sys.stdout.write(piece)
            sys.stdout.flush()
    except BrokenPipeError:
        # As the Python documentation advises: point standard output at
        # /dev/null so that the flush at exit fails no more, and end quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1
    return 0


def _write_file(path: str, pieces: Iterable[str], *, force: bool) -> None:
    """Write ``pieces`` to a temporary file beside ``path``, then move it to ``path``.

    Without ``force``, an existing ``path`` is never replaced (also one made
    while the export ran): a hard link claims the name only if it is free.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, partial = tempfile.mkstemp(prefix=".albert-export-", suffix=".part", dir=directory)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # as open() would have made it
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for piece in pieces:
                out.write(piece)
        if force:
            os.replace(partial, path)
            return
        try:
            os.link(partial, path)
        except FileExistsError:
            raise ValueError(f"{path} exists: pass --force to overwrite it") from None
        except OSError:  # no hard links here: check, then rename
            if os.path.exists(path):
                raise ValueError(f"{path} exists: pass --force to overwrite it") from None
            os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def run(args: argparse.Namespace) -> int:
    """Export a session to standard output or a file, a page of messages at a time.

    Parameters
    ----------
    args : argparse.Namespace
        ``session_id``, ``format``, ``out``, ``force``, ``local``, ``db`` and
        ``progress``.

    Returns
    -------
    int
        0 on success; 1, quietly, when standard output is a pipe that its
        reader closed before the end (``albert-chat export ID | head``).

    Raises
    ------
    ValueError
        If ``--db`` is given without ``--local``, or names no file; or if
        ``--out`` names a file that exists and ``--force`` is not given.
    ImportError
        With ``--progress`` when tqdm is not installed.
    """
    from albert._sync.conversations import export_text
    from albert.display import ExportRenderer
    from albert.progress import require_progress

    if args.out and not args.force and os.path.exists(args.out):
        raise ValueError(f"{args.out} exists: pass --force to overwrite it")
    progress = _show_progress(args.progress, to_file=bool(args.out))
    require_progress(progress)
    opened: contextlib.AbstractContextManager[Albert]
    if args.db is not None:
        if not args.local:
            raise ValueError("--db reads the local emulator's file: add --local")
        if not os.path.isfile(args.db):
            raise ValueError(f"no emulator database at {args.db}")
        opened = _file_client(args.db)
    else:
        opened = _client(args.local)
    renderer = ExportRenderer(args.format)
    with opened as client:
        pieces = export_text(client.chat_sessions, args.session_id, renderer, progress=progress)
        if not args.out:
            return _print(pieces)
        _write_file(args.out, pieces, force=args.force)
    print(f"exported {renderer.count} messages of {args.session_id} to {args.out}", file=sys.stderr)
    return 0
