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


def test_the_models_load_without_numba():
    """Arms, instances, generators and estimation from logs import no numba: a kernel they use
    (EM's E-step) is imported on first use, so `rmab generate` and `rmab estimate` on a
    transition log start without it."""
    code = "import sys, rmab.models; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


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


def test_import_rmab_loads_neither_numpy_nor_solvers():
    """docs/design.md: ``import rmab`` imports the errors alone (not even numpy), and must not
    import ``solvers`` for its check of a shadowing ``solvers`` module to mean anything."""
    code = ("import sys, rmab; print(','.join(m for m in ('numpy', 'solvers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# the training modules of SEQUOIA are torch code through and through (docs/design.md)
TORCH_MODULES = {"rmab/planners/sequoia/qnet.py", "rmab/planners/sequoia/stability.py",
                 "rmab/planners/sequoia/train.py"}


def _imported_at_import_time(node):
    """Top-level names of the modules ``node`` imports outside any function body."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(child, ast.Import):
            yield from (a.name.split(".")[0] for a in child.names)
        elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
            yield child.module.split(".")[0]
        yield from _imported_at_import_time(child)


def test_heavy_extras_are_imported_inside_functions():
    """torch, pyomo, matplotlib and ray load inside the functions that need them (ARCHITECTURE
    §1.5), so importing any module a planner, the simulator or the CLI needs loads none; the
    test above only sees the modules ``import rmab`` and ``rmab.cli`` load themselves."""
    offenders = []
    for package in ("rmab", "solvers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            heavy = {"torch", "pyomo", "matplotlib", "ray"} & set(
                _imported_at_import_time(ast.parse(path.read_text(), filename=name)))
            if heavy - ({"torch"} if name in TORCH_MODULES else set()):
                offenders.append(f"{name}: {sorted(heavy)}")
    assert offenders == []


def test_numba_only_in_kernel_modules():
    """Numba code lives only in private _kernels modules (ARCHITECTURE.md §1.3), in solvers too."""
    offenders = []
    for path in [*(ROOT / "rmab").rglob("*.py"), *(ROOT / "solvers").rglob("*.py")]:
        if "_kernels" in path.name:
            continue
        text = path.read_text()
        # rmab._kernels.njit is numba's decorator: a kernel defined with it is numba code too
        if "from numba import" in text or "import numba" in text or "@njit" in text:
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
