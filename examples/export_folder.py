"""Export every chat session of a folder, one file per session, with the sync `Albert` client.

    python examples/export_folder.py FOLDER_ID OUT_DIR [--format md|json] [--progress]

The client reads ``ALBERT_BASE_URL`` and ``ALBERT_TOKEN`` from the environment
(``albert-chat serve`` prints both for the local emulator). Each session is
written to ``OUT_DIR/<session id>.<md|json>`` as it is read, a page of messages
at a time, so a session of any size costs the memory of one page; a file is
only put in place once complete. ``--progress`` shows a bar over the sessions
(``pip install 'albert-chat[notebook]'`` for tqdm).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Literal

from albert import Albert
from albert.exceptions import AlbertException
from albert.progress import progress_bar


def file_name(session_id: str, extension: str) -> str:
    """Return a file name for a session: its id, with nothing that could leave the folder."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", session_id).lstrip(".") + f".{extension}"


def export_folder(
    client: Albert,
    folder_id: str,
    out_dir: Path,
    *,
    fmt: Literal["md", "json"] = "md",
    progress: bool = False,
) -> list[Path]:
    """Export each session filed in ``folder_id`` into ``out_dir``; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sessions = list(client.chat_sessions.get_all(parent_id=folder_id))
    written = []
    with progress_bar(progress, desc="exporting", unit="sessions", total=len(sessions)) as bar:
        for session in sessions:
            target = out_dir / file_name(session.id or "session", fmt)
            fd, partial = tempfile.mkstemp(dir=out_dir, prefix=".", suffix=".part")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.writelines(client.chat_sessions.export(id=session.id or "", format=fmt))
                os.replace(partial, target)
            finally:
                if os.path.exists(partial):
                    os.unlink(partial)
            written.append(target)
            bar.update(1)
    return written


def main(argv: list[str] | None = None) -> int:
    """Run the script; return its exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder_id", help="the id of the folder")
    parser.add_argument("out_dir", type=Path, help="where to write the files")
    parser.add_argument("--format", choices=("md", "json"), default="md")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args(argv)
    try:
        with Albert() as client:
            written = export_folder(
                client, args.folder_id, args.out_dir, fmt=args.format, progress=args.progress
            )
    except (AlbertException, ImportError, OSError) as exc:
        print(f"export_folder: {exc}", file=sys.stderr)
        return 1
    print(f"exported {len(written)} sessions of {args.folder_id} to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
