"""Import hygiene: `import rmab` loads no heavy optional dependency; solvers never imports rmab."""

import ast
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_import_rmab_is_light():
    code = ("import sys, rmab, rmab.cli; heavy = [m for m in ('torch', 'pyomo', 'matplotlib', "
            "'ray') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_solvers_never_imports_rmab():
    for path in (ROOT / "solvers").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] != "rmab", f"{path}: imports {name}"


def test_numba_only_in_kernel_modules():
    """Numba code lives only in private _kernels modules (ARCHITECTURE.md §1.3)."""
    offenders = []
    for path in (ROOT / "rmab").rglob("*.py"):
        if "_kernels" in path.name:
            continue
        if "from numba import" in path.read_text() or "import numba" in path.read_text():
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_a_shadowing_solvers_module_is_named_at_import(tmp_path):
    """A user's solvers.py beside a script hid the MILP layer: every MIP planner then failed
    with "'solvers' is not a package" (a packaging review). `import rmab` names the file."""
    (tmp_path / "solvers.py").write_text("# the user's own module\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = "import rmab"
    shadowed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=True)
    assert "RmabWarning: rmab: the module 'solvers' Python finds first is" in shadowed.stderr
    assert str(tmp_path / "solvers.py") in shadowed.stderr
    assert "most calls will fail; rename that file or folder" in shadowed.stderr
    (tmp_path / "solvers.py").unlink()
    clean = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True)
    assert clean.stderr == ""


def test_the_solvers_check_sees_namespace_folders_and_survives_odd_modules(tmp_path,
                                                                          monkeypatch):
    """A folder solvers/ without __init__ (found first under an editable install) was not
    named; a 'solvers' module without a spec in sys.modules crashed `import rmab` (a review
    of the check)."""
    import importlib.machinery
    import importlib.util
    import warnings

    import rmab

    folder = importlib.machinery.ModuleSpec("solvers", None, is_package=True)
    folder.submodule_search_locations = [str(tmp_path / "solvers")]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: folder)
    with pytest.warns(rmab.RmabWarning, match="finds first is .*solvers, not rmab's MILP"):
        rmab._check_solvers_layer()

    def no_spec(name, *a):
        raise ValueError("solvers.__spec__ is None")

    monkeypatch.setattr(importlib.util, "find_spec", no_spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rmab._check_solvers_layer()
