"""The demo's walk, written once as async code; ``albert.cli._sync`` is generated from it."""
