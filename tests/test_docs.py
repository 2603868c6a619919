"""The docs list what the code has: every public error and warning in docs/conventions.md."""

from pathlib import Path

import rmab.errors

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_error_and_warning_is_in_the_conventions():
    text = (DOCS / "conventions.md").read_text(encoding="utf-8")
    missing = [name for name in rmab.errors.__all__ if f"`{name}`" not in text]
    assert not missing, f"docs/conventions.md does not list {missing}"
