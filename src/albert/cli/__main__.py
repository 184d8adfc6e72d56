"""``python -m albert.cli``: the ``albert-chat`` command."""

from __future__ import annotations

import sys

from albert.cli import main

sys.exit(main())
