"""The ``rmab`` dispatcher: what every command shares (interrupts, memory, encodings, closed
or failing output streams) and the light ``import rmab`` it relies on."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rmab
from rmab import cli
from rmab.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
PYTHON = sys.executable


def test_import_rmab_is_light_and_every_public_name_resolves():
    """numba, scipy and the planners load on first use (PEP 562), so the command line starts
    in about 0.1 s and a Ctrl-C while it loads is the dispatcher's to catch."""
    code = ("import sys, rmab; heavy = [m for m in ('numba', 'scipy', 'rmab.planners') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert all(getattr(rmab, name) is not None for name in rmab.__all__)
    assert set(rmab.__all__) | {"relax", "models", "sim"} <= set(dir(rmab))
    out = subprocess.run([PYTHON, "-c", "import rmab; print(rmab.relax.whittle_indices.__name__,"
                          " rmab.models.Instance.__name__)"], capture_output=True, text=True)
    assert out.stdout.split() == ["whittle_indices", "Instance"], out.stderr   # a review
    with pytest.raises(AttributeError, match="module 'rmab' has no attribute 'nope'"):
        rmab.nope                                                   # noqa: B018


def test_an_interrupt_while_the_command_loads_is_caught(monkeypatch, capsys):
    def interrupted(command):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert main(["compare", "--health", "10"]) == 130
    assert capsys.readouterr().err == "rmab: interrupted\n"


def test_out_of_memory_is_one_line(monkeypatch, capsys):
    from rmab.commands import generate

    def exhausted(args):
        raise MemoryError("Unable to allocate 298. GiB")
    monkeypatch.setattr(generate, "run", exhausted)
    assert main(["generate", "random", "--arms", "2", "-o", "x.npz"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error: out of memory: Unable to allocate 298. GiB") and \
        err.count("\n") == 1


@pytest.mark.parametrize("argv", [["bound", "--help"], ["bound", str(DATA / "health_example.npz"),
                                                          "--no-certificate"]])
def test_an_ascii_terminal_gets_escapes_not_a_traceback(argv, tmp_path):
    """λ, ± and Σ raised UnicodeEncodeError after the work on an ASCII or Latin-1 stdout."""
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    out = subprocess.run([PYTHON, "-m", "rmab", *argv], capture_output=True, text=True,
                         env=env, cwd=tmp_path, encoding="ascii", errors="strict")
    assert out.returncode == 0, out.stderr
    assert "\\u03bb" in out.stdout and "Traceback" not in out.stderr


def test_compare_writes_its_files_before_printing(tmp_path, monkeypatch, capsys):
    """A failing stdout (a full disk, a closed pipe) lost the CSV asked for."""
    class Full(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")
    out = tmp_path / "r.csv"
    monkeypatch.setattr(sys, "stdout", Full())
    code = main(["compare", "--health", "6", "--episodes", "2", "--horizon", "3",
                 "--planners", "random,myopic", "--no-progress", "--out", str(out)])
    assert code == 1 and out.is_file()
    assert "No space left on device" in capsys.readouterr().err
