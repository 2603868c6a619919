"""solvers/ is a generic layer: it never imports rmab, and importing it pulls no heavy extra."""

import ast
import pathlib
import subprocess
import sys

SOLVERS = pathlib.Path(__file__).resolve().parents[2] / "solvers"


def imported_modules(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_every_solvers_module_is_parsed_and_none_imports_rmab():
    files = sorted(SOLVERS.rglob("*.py"))
    assert {"milp.py", "result.py", "errors.py", "highs.py", "encode.py"} <= {f.name for f in files}
    offenders = [(str(f), n) for f in files for n in imported_modules(f)
                 if n.split(".")[0] == "rmab"]
    assert offenders == []


def test_no_relative_imports_hide_rmab():
    for f in SOLVERS.rglob("*.py"):
        tree = ast.parse(f.read_text())
        assert not any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in ast.walk(tree)), f


def test_import_solvers_is_light():
    code = ("import sys, solvers, solvers.nn; print(','.join(m for m in ('rmab', 'torch', "
            "'pyomo') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=SOLVERS.parent)
    assert out.stdout.strip() == ""
