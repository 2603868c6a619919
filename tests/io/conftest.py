"""Shared fixtures of the CSV batch tests: a folder holding the bundled health model."""

import shutil
from pathlib import Path

import pytest

from rmab.models import load_instance

DATA = Path(__file__).resolve().parents[2] / "data"
MODEL = DATA / "health_example.npz"


@pytest.fixture
def folder(tmp_path):
    """A temporary folder with ``health.npz`` (the bundled 100-arm health instance)."""
    shutil.copy(MODEL, tmp_path / "health.npz")
    return tmp_path


@pytest.fixture
def write_csv(folder):
    """``write_csv(text, name="b.csv")`` -> path of a CSV file beside ``health.npz``."""
    def write(text: str, name: str = "b.csv") -> Path:
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="")
        return path
    return write


@pytest.fixture(scope="session")
def health():
    """The bundled instance itself, loaded independently of the CSV reader."""
    return load_instance(MODEL)
