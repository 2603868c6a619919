"""The test markers (ARCHITECTURE.md §7) say what a test needs: one that needs torch is marked
``torch``, so ``pytest -m "not torch"`` passes where torch is not installed, and every example
script (a subprocess, 8-9 s for the shortest on a cold numba cache) is ``slow``. A test that
skipped without torch went unmarked, and the SEQUOIA example, run by tests/test_examples.py,
was marked nothing (a review of the plan)."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _at_import(node: ast.AST):
    """``node`` and what it holds that runs at import time (not inside a function)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _at_import(child)


def _imports(tree: ast.AST, at_import_only: bool = False) -> set:
    nodes = _at_import(tree) if at_import_only else ast.walk(tree)
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def torch_modules() -> set:
    """``torch`` and every rmab/solvers module that imports it, or such a module, at import
    time (not inside a function)."""
    tops = {_module_name(p): _imports(ast.parse(p.read_text(encoding="utf-8")), True)
            for package in ("rmab", "solvers") for p in (ROOT / package).rglob("*.py")}
    found = {"torch"}
    while True:
        more = {m for m, names in tops.items() if m not in found
                and any(n == t or n.startswith(t + ".") for n in names for t in found)}
        if not more:
            return found
        found |= more


def _needs_torch(node: ast.AST, heavy: set) -> bool:
    for n in ast.walk(node):
        if (isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "importorskip"
                and n.args and isinstance(n.args[0], ast.Constant)
                and n.args[0].value == "torch"):
            return True
    return bool(_imports(node) & heavy)


def _says_torch(expr: ast.AST) -> bool:
    """Whether a decorator or ``pytestmark`` value names ``pytest.mark.torch``."""
    return any(isinstance(n, ast.Attribute) and n.attr == "torch"
               and getattr(n.value, "attr", None) == "mark" for n in ast.walk(expr))


def test_torch_modules_are_found():
    assert {"torch", "rmab.planners.sequoia.qnet", "rmab.planners.sequoia.train"} \
        <= torch_modules()
    assert "rmab.planners.sequoia.planner" not in torch_modules()    # numpy + MIP only


def test_a_test_that_needs_torch_is_marked_torch():
    heavy = torch_modules()
    unmarked = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_marked = any(isinstance(node, ast.Assign) and _says_torch(node.value)
                            and any(getattr(t, "id", None) == "pytestmark"
                                    for t in node.targets) for node in tree.body)
        if module_marked:
            continue
        if _needs_torch(ast.Module(body=[n for n in tree.body if not isinstance(
                n, (ast.FunctionDef, ast.ClassDef))], type_ignores=[]), heavy):
            unmarked.append(f"{path.relative_to(ROOT)} (at import)")
        for node in ast.walk(tree):
            if (isinstance(node, ast.FunctionDef) and node.name.startswith("test")
                    and _needs_torch(node, heavy)
                    and not any(_says_torch(d) for d in node.decorator_list)):
                unmarked.append(f"{path.relative_to(ROOT)}::{node.name}")
    assert unmarked == [], f"these need torch and are not marked torch: {unmarked}"


def test_every_example_is_slow_and_one_that_needs_torch_is_marked_torch():
    import test_examples

    heavy = torch_modules()
    for param in test_examples.EXAMPLES:
        (path,) = param.values
        marks = {m.name for m in param.marks}
        needs = _needs_torch(ast.parse(path.read_text(encoding="utf-8")), heavy)
        assert "slow" in marks, path.name
        assert ("torch" in marks) == needs, path.name
    assert any("torch" in {m.name for m in p.marks} for p in test_examples.EXAMPLES)
