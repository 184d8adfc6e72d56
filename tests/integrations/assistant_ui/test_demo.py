"""``albert-chat demo``'s assistant-ui part: a streamed chat, a cancelled one, both read back."""

from __future__ import annotations

import pytest

from albert import cli
from albert.cli.demo_assistant import ASKED


def test_demo_chats_with_the_assistant_ui_backend_and_reads_the_threads_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out.partition("== assistant-ui")[2]
    assert out, "the demo has an assistant-ui part"
    assert 'The count_words tool returned {"words": 10}.' in out
    assert "[cancelled]" in out
    assert "stopped after " in out
    for thread_id in ASKED:
        assert f"thread {thread_id!r} from Albert" in out
    assert "tool      count_words -> {'words': 10}" in out
