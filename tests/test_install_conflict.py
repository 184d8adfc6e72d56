"""`import albert` warns when another distribution installed an `albert` package beside ours."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import albert
from albert._install import conflicting_distributions


def site_with(tmp_path: Path, *metadata: str) -> Path:
    """Return a scratch site-packages: a copy of this albert package and the given metadata dirs."""
    site = tmp_path / "site-packages"
    shutil.copytree(
        Path(albert.__path__[0]), site / "albert", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in metadata:
        (site / name).mkdir()
        (site / name / "METADATA").write_text(f"Name: {name.split('-')[0]}\n", encoding="utf-8")
    return site


def import_albert(site: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", "import albert; print(albert.__file__)"],
        env={"PYTHONPATH": str(site), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_import_albert_names_the_other_distribution_and_what_to_do(tmp_path: Path) -> None:
    site = site_with(tmp_path, "albert_chat-0.1.0.dist-info", "albert-1.68.0.dist-info")

    result = import_albert(site)

    assert result.returncode == 0
    assert result.stdout.strip() == str(site / "albert" / "__init__.py")  # the scratch copy
    assert "AlbertInstallWarning" in result.stderr
    assert f"albert 1.68.0 is installed beside albert-chat {albert.__version__}" in result.stderr
    assert "separate virtual environments" in result.stderr
    assert "pip uninstall -y albert albert-chat && pip install albert-chat" in result.stderr


def test_import_albert_alone_is_silent(tmp_path: Path) -> None:
    site = site_with(tmp_path, "albert_chat-0.1.0.dist-info", "albertine-2.0.dist-info")

    result = import_albert(site, "-W", "error")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_conflicting_distributions_reads_only_the_names_beside_the_package(
    tmp_path: Path,
) -> None:
    for name in (
        "albert-1.68.0.dist-info",
        "albert-1.2-py3.11.egg-info",
        "albert_chat-0.1.0.dist-info",
        "albert_tools-1.0.dist-info",
        "albert",
    ):
        (tmp_path / name).mkdir()

    assert conflicting_distributions(str(tmp_path)) == ["albert 1.2", "albert 1.68.0"]
    assert conflicting_distributions(str(tmp_path / "missing")) == []
