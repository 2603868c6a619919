"""House style that a reviewer should not have to check by eye: lines of at most 100
characters in every Python file of the project."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("rmab", "solvers", "tests", "benchmarks", "examples")


def test_python_lines_are_at_most_100_characters():
    long = [f"{path.relative_to(ROOT)}:{i} ({len(line)})"
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if len(line) > 100]
    assert not long, "lines over 100 characters: " + ", ".join(long)
