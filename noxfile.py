"""Developer tasks: `nox -s tests lint typecheck check_generated`, `nox -s generate`, ..."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["check_generated", "lint", "typecheck", "tests"]


def _sync(session: nox.Session, *extra: str) -> None:
    """Install the locked project and dev group into the session's virtualenv."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        *extra,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (both variants; asyncio, uvloop and trio)."""
    _sync(session, "--all-extras")
    session.run("pytest", *session.posargs)


@nox.session(python=["3.10", "3.11", "3.12", "3.13"])
def tests_pythons(session: nox.Session) -> None:
    """Run the whole test suite on every Python the package supports (those installed)."""
    _sync(session, "--all-extras")
    session.run("pytest", "-q", *session.posargs)


@nox.session(name="tests-oldest-aiohttp")
def tests_oldest_aiohttp(session: nox.Session) -> None:
    """Run the transport tests on the oldest aiohttp pyproject allows."""
    _sync(session, "--all-extras")
    session.install("aiohttp==3.12.7")
    # Before 3.14.0, aiohttp leaves a "Connection lost" unretrieved after the abort
    # of a write timeout (aio-libs/aiohttp#12307): asyncio logs it, the test fails on it.
    unretrieved = "test_errors.py::test_a_write_timeout_does_not_swallow_a_cancellation"
    session.run(
        "pytest",
        "tests/transport",
        "--deselect",
        f"tests/transport/{unretrieved}",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    _sync(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, generated tree included."""
    _sync(session, "--all-extras")
    session.run("mypy")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate src/albert/_sync and tests/_sync from their async sources."""
    _sync(session)
    session.run("python", "scripts/unasync.py")


@nox.session
def check_generated(session: nox.Session) -> None:
    """Fail if the generated sync code differs from what the script produces."""
    _sync(session)
    session.run("python", "scripts/unasync.py", "--check")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/."""
    _sync(session, "--group", "docs")
    session.run("mkdocs", "build", "--strict")


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks (`nox -s bench -- --quick` for a run under a minute)."""
    _sync(session, "--all-extras", "--group", "bench")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(name="bench-emulator")
def bench_emulator(session: nox.Session) -> None:
    """Time a page of a large session and a large export of the emulator (issue 17)."""
    _sync(session, "--all-extras")
    session.run("python", "benchmarks/emulator.py", *session.posargs)


@nox.session(name="bench-instructions")
def bench_instructions(session: nox.Session) -> None:
    """Count the instructions a listing costs the floor and ours, with valgrind."""
    _sync(session, "--all-extras", "--group", "bench")
    session.run("python", "benchmarks/instructions.py", *session.posargs)
