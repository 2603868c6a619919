"""A seeded random search: small MILPs against an exact rational optimum on every backend.

Each model (``np.random.default_rng([SEED, index])``) has up to 4 integer columns of a few
values, up to 2 continuous ones and up to 5 rows, with coefficients of 1e-2..1e3, costs of
1e-1..1e4 and offsets up to 1e6: extremes moderate enough to stay clear of the "Known HiGHS
limits" of docs/solvers.md (costs 10 orders apart with coefficients of 1e-8; a coefficient of
1e6 on a column up to 1e6; scipy's HiGHS on badly scaled integer models), whose last entry,
feasibility relative to a row's scale, is what is asserted. It is solved with presolve on and
off, without a start and from the exact optimum, a perturbed optimum and a point outside a
bound, and (persistent model) after two rounds of new costs and row bounds, and every answer
is held to what the layer promises:

- the status is the exact one: OPTIMAL, INFEASIBLE or UNBOUNDED (OPTIMAL or TIME_LIMIT under
  a time limit); OPTIMAL has a point and a bound, INFEASIBLE and UNBOUNDED neither;
- ``x`` meets every row to ``FEAS_TOL`` times the row's largest coefficient (at least 1) and
  every bound to ``FEAS_TOL``, integers exactly; ``objective`` is ``c @ x + offset``;
- an OPTIMAL objective is short of the exact optimum by at most ``mip_gap`` (1e-6) relative
  to it (with or without the offset: scipy's gap ignores it), and no objective passes the
  optimum of the model with every row and bound widened by that tolerance; the bound is on
  the optimum's far side, and an OPTIMAL one within the gap of the objective;
- a start the exact arithmetic finds feasible (to 1e-12) is never lost: a solution at least
  as good comes back, also from a solve given a 1 ms time limit;
- a persistent model updated in place answers as a fresh model of the updated arrays does.

Models whose exact status changes when rows and bounds are widened by the tolerance are
redrawn (the answer there is the tolerance's choice). A failure prints the model, what was
asked and a reproducer. By hand: ``RMAB_SEARCH_MODELS=3000 [RMAB_SEARCH_SEED=n] pytest -n 2 -q
tests/solvers/test_solvers_exact_search.py`` (about 0.3 CPU seconds a model: 13 minutes).
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from fractions import Fraction

import numpy as np
import pytest

from exact_milp import ExactMILP
from solvers import MILP, TerminationStatus, available_backends, get_backend, solve
from solvers.milp import FEAS_TOL

pytestmark = pytest.mark.mip
T = TerminationStatus
N_MODELS = int(os.environ.get("RMAB_SEARCH_MODELS", "30"))
SEED = int(os.environ.get("RMAB_SEARCH_SEED", "20261204"))
BACKEND_NAMES = available_backends()
MIP_GAP = 1e-6
STATUS = {"optimal": T.OPTIMAL, "infeasible": T.INFEASIBLE, "unbounded": T.UNBOUNDED}


# ---------------------------------------------------------------- random models
def number(rng, lo: int, hi: int) -> float:
    """A positive decimal: 1..9 or of 2-3 significant digits, times 10**e, e in [lo, hi]."""
    mantissa = int(rng.integers(1, 10)) if rng.random() < 0.5 else \
        round(float(rng.uniform(1, 10)), int(rng.integers(1, 3)))
    return float(f"{mantissa}e{int(rng.integers(lo, hi + 1))}")


def signed(rng, lo: int, hi: int) -> float:
    return number(rng, lo, hi) * (1 if rng.random() < 0.5 else -1)


def outward(value: Fraction, up: bool) -> float:
    """The float nearest ``value`` on its outer side (``up``: not below it)."""
    f = float(value)
    if (Fraction(f) < value) if up else (Fraction(f) > value):
        f = math.nextafter(f, math.inf if up else -math.inf)
    return f


def reference_point(rng, spec) -> list:
    """A point in the column box, continuous values of 3 significant digits."""
    point = []
    for lo, hi, integer in zip(spec["col_lower"], spec["col_upper"], spec["integrality"]):
        if integer:
            point.append(float(rng.integers(lo, hi + 1)))
            continue
        a = max(lo, -100.0)
        b = min(hi, a + 100.0)
        point.append(min(max(float(f"{rng.uniform(a, b):.3g}"), lo), hi))
    return point


def row_bounds(rng, row, point) -> tuple[float, float]:
    """Bounds of one row around its exact activity at ``point``: a <=, >=, range or equality
    row, met with no slack, some slack, or (1 in 10, its lower side) missed."""
    act = sum((Fraction(a) * Fraction(v) for a, v in zip(row, point)), Fraction(0))
    scale = max(abs(a) for a in row)
    slack = [Fraction(0) if rng.random() < 0.3 else Fraction(
        float(f"{scale * 10 ** rng.uniform(-3, 0.5):.3g}")) for _ in range(2)]
    if rng.random() < 0.1:
        slack[0] = -Fraction(float(f"{scale * 10 ** rng.uniform(-2, 0):.3g}"))
    kind = rng.choice(["le", "ge", "range", "eq"], p=[0.35, 0.25, 0.25, 0.15])
    if kind == "eq":
        return float(act), float(act)        # the float nearest: maybe no point meets it
    lower, upper = outward(act - slack[0], False), outward(act + slack[1], True)
    if lower > upper:
        lower, upper = upper, lower
    return (-math.inf if kind == "le" else lower), (math.inf if kind == "ge" else upper)


def random_costs(rng, n: int) -> list:
    return [0.0 if rng.random() < 0.15 else signed(rng, -1, 3) for _ in range(n)]


def random_model(rng) -> dict:
    """The arrays of one small MILP (``MILP.from_arrays`` keywords)."""
    n_int, n_cont = int(rng.integers(0, 5)), int(rng.integers(0, 3))
    n_int += n_int + n_cont == 0
    domains = [(0, 1), (0, 1), (0, 3), (-2, 2), (-1, 1)]
    while True:
        ints = [domains[i] for i in rng.integers(0, len(domains), n_int)]
        if math.prod(hi - lo + 1 for lo, hi in ints) <= 100:
            break
    conts = []
    for _ in range(n_cont):
        lo = [0.0, -number(rng, -1, 3), -math.inf][rng.choice(3, p=[0.4, 0.3, 0.3])]
        hi = [number(rng, -1, 3), math.inf][rng.choice(2, p=[0.6, 0.4])]
        conts.append((lo, max(hi, lo + 1.0)))
    cols = [(float(lo), float(hi), True) for lo, hi in ints] + [(lo, hi, False)
                                                                 for lo, hi in conts]
    cols = [cols[j] for j in rng.permutation(len(cols))]
    n = len(cols)
    spec = dict(col_lower=[c[0] for c in cols], col_upper=[c[1] for c in cols],
                integrality=[c[2] for c in cols])
    A = np.zeros((int(rng.integers(1, 5)), n))
    for row in A:
        while not row.any():
            row[:] = [signed(rng, -2, 2) if rng.random() < 0.6 else 0.0 for _ in range(n)]
    point = reference_point(rng, spec)
    bounds = [row_bounds(rng, row, point) for row in A]
    if rng.random() < 0.1:          # a row that row 0's bounds miss: an infeasible model
        gap = number(rng, -3, 0) * np.abs(A[0]).max()
        lo, hi = bounds[0]
        A = np.vstack([A, -A[0]])
        bounds.append((-lo + gap, math.inf) if math.isfinite(lo) else (-math.inf, -hi - gap))
    spec.update(c=random_costs(rng, n), A=A.tolist(), row_lower=[b[0] for b in bounds],
                row_upper=[b[1] for b in bounds], sense=str(rng.choice(["max", "min"])),
                offset=0.0 if rng.random() < 0.5 else signed(rng, 0, 5))
    return spec


def random_update(rng, spec) -> tuple[dict, dict]:
    """New costs (and maybe offset), new bounds on some rows: the updated arrays and the
    update as ``set_objective`` / ``set_row_bounds`` arguments."""
    rows = sorted(set(rng.integers(0, len(spec["A"]), int(rng.integers(1, 3))).tolist()))
    point = reference_point(rng, spec)
    bounds = [row_bounds(rng, spec["A"][i], point) for i in rows]
    op = dict(c=random_costs(rng, len(spec["c"])), offset=None if rng.random() < 0.5 else
              signed(rng, 0, 5), rows=rows, lower=[b[0] for b in bounds],
              upper=[b[1] for b in bounds])
    new = dict(spec, c=op["c"], row_lower=list(spec["row_lower"]),
               row_upper=list(spec["row_upper"]))
    if op["offset"] is not None:
        new["offset"] = op["offset"]
    for i, lo, hi in zip(rows, op["lower"], op["upper"]):
        new["row_lower"][i], new["row_upper"][i] = lo, hi
    return new, op


class Case:
    """A model, its exact answer and that of the model widened by FEAS_TOL."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.milp = MILP.from_arrays(**spec)
        self.exact = ExactMILP.from_milp(self.milp)
        self.ref = self.exact.solve()
        self.widened = self.exact.solve(FEAS_TOL)

    @property
    def stable(self) -> bool:
        """The exact status survives widening by the tolerance."""
        return self.ref.status == self.widened.status


def stable_case(rng, make) -> tuple[Case, object]:
    """The first of ``make(rng)``'s (spec, extra) whose model's status the tolerance does not
    decide, as (case, extra)."""
    while True:
        spec, extra = make(rng)
        if (case := Case(spec)).stable:
            return case, extra


@functools.lru_cache(maxsize=8)
def model_case(index: int) -> tuple[Case, list, list]:
    """Model ``index``: its case, its starts [(name, x)] and two rounds of updates
    [(op, case)]."""
    rng = np.random.default_rng([SEED, index])
    case, _ = stable_case(rng, lambda r: (random_model(r), None))
    updates, last = [], case
    for _ in range(2):
        last, op = stable_case(rng, lambda r: random_update(r, last.spec))
        updates.append((op, last))
    return case, starts(rng, case), updates


def starts(rng, case: Case) -> list:
    """(name, start): the exact optimum and one column of it moved by 1e-9..1e-3 (relative, at
    least absolute), where there is one, and a point outside a column bound (a free column:
    at 1e3)."""
    spec = case.spec
    out = []
    if case.ref.status == "optimal":
        best = [float(v) for v in case.ref.x]
        out.append(("optimum", best))
        moved = list(best)
        j = int(rng.integers(len(best)))
        moved[j] += float(rng.choice([-1, 1]) * rng.choice([1e-9, 1e-7, 1e-6, 1e-3])
                          * max(1.0, abs(moved[j])))
        out.append(("perturbed", moved))
    outside = reference_point(rng, spec)
    j = int(rng.integers(len(outside)))
    hi, lo = spec["col_upper"][j], spec["col_lower"][j]
    outside[j] = hi + 1.0 if math.isfinite(hi) else lo - 1.0 if math.isfinite(lo) else 1e3
    out.append(("outside", outside))
    return out


# ---------------------------------------------------------------- what the layer promises
def scale(case: Case) -> float:
    """What ``mip_gap`` is relative to: the optimum, with or without the offset."""
    opt = float(case.ref.value)
    return max(1.0, abs(opt), abs(opt - case.spec["offset"]))


def judge(case: Case, res, start=None, time_limited: bool = False) -> list[str]:
    """The broken promises of result ``res`` for ``case`` (and its start), as sentences."""
    exact, ref, sign = case.exact, case.ref, case.exact.sign
    out = []
    allowed = {STATUS[ref.status]} | ({T.TIME_LIMIT} if time_limited else set())
    if res.status not in allowed:
        out.append(f"status {res.status.value}, exactly {ref.status}")
    if res.status in (T.INFEASIBLE, T.UNBOUNDED) and (res.x is not None or not
                                                      math.isnan(res.objective)):
        out.append(f"{res.status.value} with a point or an objective")
    if res.status is T.OPTIMAL and res.x is None:
        out.append("OPTIMAL without a point")
    objective = None                  # the reported objective as a Fraction, with a point
    if res.x is not None:
        off = exact.violation(res.x)
        if off > FEAS_TOL:
            out.append(f"x off by {float(off):.3g} (rows relative to their largest "
                       f"coefficient) > FEAS_TOL")
        value = exact.value(res.x)
        magnitude = sum(abs(a * Fraction(v)) for a, v in zip(exact.c, res.x)) + abs(
            exact.offset) + 1
        if not math.isfinite(res.objective) or abs(Fraction(res.objective) - value) > \
                Fraction(1e-12) * magnitude:
            out.append(f"objective {res.objective!r}, but c @ x + offset = {float(value)!r}")
        else:
            objective = Fraction(res.objective)
    if ref.status == "optimal":
        opt, tol = ref.value, Fraction(MIP_GAP * scale(case))
        slack = Fraction(1e-12) * (abs(opt) + 1)
        if objective is not None and sign * (objective - case.widened.value) > slack:
            out.append(f"objective {res.objective!r} past the optimum widened by the "
                       f"tolerance, {float(case.widened.value)!r}")
        optimal = res.status is T.OPTIMAL and objective is not None
        if optimal and sign * (opt - objective) > tol + slack:
            out.append(f"OPTIMAL objective {res.objective!r} short of the optimum "
                       f"{float(opt)!r} by more than the gap")
        if res.status is T.OPTIMAL and not math.isfinite(res.bound):
            out.append("OPTIMAL without a bound")
        if math.isfinite(res.bound) and sign * (Fraction(res.bound) - opt) < -(tol + slack):
            out.append(f"bound {res.bound!r} cuts off the optimum {float(opt)!r}")
        if optimal and math.isfinite(res.bound) and sign * (
                Fraction(res.bound) - objective) > tol + slack:
            out.append(f"OPTIMAL bound {res.bound!r} farther than the gap from the objective")
    if start is not None and ref.status == "optimal":     # (unbounded: no point to return)
        given = [round(v) if integer else v for v, integer in zip(start, exact.integer)]
        if exact.violation(given) <= Fraction(1e-12):
            worth = exact.value(given)
            if res.x is None:
                out.append("exact start lost: no solution")
            elif objective is not None and sign * (objective - worth) < -Fraction(1e-9) * max(
                    1, abs(worth)):
                out.append(f"objective {res.objective!r} worse than the exact start's "
                           f"{float(worth)!r}")
    return out


def checked(case: Case, backend: str, res, label: str, start=None, time_limited=False,
            **options) -> list[str]:
    """:func:`judge`'s sentences, each headed by ``label``; but a documented limit (Known
    HiGHS limits, docs/solvers.md) is only warned of: scipy's bundled HiGHS returned some
    presolved integer models suboptimal or infeasible that the ``highs`` backend solves, so
    a ``scipy`` solve with presolve of an integer model is excused when the ``highs`` backend
    answers the same solve (``options``) without fault."""
    problems = [f"{label}: {p}" for p in judge(case, res, start, time_limited)]
    if problems and backend == "scipy" and options["presolve"] and any(case.exact.integer) \
            and "highs" in BACKEND_NAMES and not judge(case, solve(
                case.milp, backend="highs", warm_start=start, mip_gap=MIP_GAP, **options),
                start, time_limited):
        warnings.warn(f"excused as scipy's presolve (docs/solvers.md): {problems}")
        return []
    return problems


# ---------------------------------------------------------------- reproducer
def literal(values) -> str:
    """``values`` (nested lists of floats and bools, or None) as a Python literal."""
    if values is None:
        return "None"
    return "[" + ", ".join(literal(v) if isinstance(v, list) else repr(float(v))
                           if not isinstance(v, bool) else repr(v) for v in values) + "]"


def reproducer(index: int, backend: str, problems: list, updates=()) -> str:
    case = model_case(index)[0]
    spec = case.spec
    fields = ", ".join(f"{k}={literal(spec[k])}" for k in (
        "c", "A", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"))
    lines = [f"model {index} of seed {SEED} (np.random.default_rng([{SEED}, {index}])), "
             f"backend {backend!r}:", *("  " + p for p in problems), "reproducer:",
             "from numpy import inf", "from solvers import MILP, get_backend, solve",
             f"milp = MILP.from_arrays({fields}, sense={spec['sense']!r}, "
             f"offset={spec['offset']!r})",
             f"# exact: {case.ref.status} {case.ref.value} at "
             f"{None if case.ref.x is None else [str(v) for v in case.ref.x]}"]
    if updates:
        lines.append(f"# model = get_backend({backend!r}).build(milp); model.solve(), then")
    for op, _ in updates:
        lines += [f"#   model.set_objective({literal(op['c'])}, offset={op['offset']!r})",
                  f"#   model.set_row_bounds({op['rows']}, {literal(op['lower'])}, "
                  f"{literal(op['upper'])})"]
    return "\n".join(lines)


# ---------------------------------------------------------------- the tests
def test_the_reference_on_known_optima():
    inf = math.inf
    chvatal = ExactMILP([5, 4, 3], [[2, 3, 1], [4, 1, 2], [3, 4, 2]], [-inf] * 3, [5, 11, 8],
                        [0] * 3, [3] * 3, [True] * 3)
    assert chvatal.solve() == ("optimal", 13, [2, 0, 1])
    free = ExactMILP([1, 1], [[1, 0], [-1, 1]], [-3.5, 0.25], [inf, inf], [-9, -inf],
                     [9, inf], [True, False], "min", 0.5)
    assert free.solve() == ("optimal", Fraction(-21, 4), [-3, Fraction(-11, 4)])
    assert free.solve(0.25) == ("optimal", Fraction(-11, 2), [-3, -3])   # y - x >= 0
    assert free.violation([-3, -2.75]) == 0 and free.violation([-3, -3]) == Fraction(1, 4)
    assert not free.is_feasible([-2.5, -2], 0.49) and free.is_feasible([-3, -3], 0.25)
    ray = ExactMILP([1, 1], [[1, -1]], [-inf], [1], [0, 0], [5, inf], [True, False])
    assert ray.solve().status == "unbounded"
    empty = ExactMILP([1, 1], [[1, 1], [1, 1]], [3, -inf], [inf, 2], [0, 0], [5, inf],
                      [True, False])
    assert empty.solve().status == "infeasible"


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("index", range(N_MODELS))
def test_solves_match_the_exact_optimum(index, backend):
    case, model_starts, _ = model_case(index)
    problems = []
    for presolve in (True, False):
        for name, start in [("none", None)] + model_starts:
            res = solve(case.milp, backend=backend, presolve=presolve, warm_start=start,
                        mip_gap=MIP_GAP)
            problems += checked(case, backend, res, f"presolve={presolve} start={name} "
                                f"{literal(start)}", start, presolve=presolve)
    for name, start in model_starts[:1] if case.ref.status == "optimal" else []:
        res = solve(case.milp, backend=backend, warm_start=start, time_limit=1e-3,
                    mip_gap=MIP_GAP)
        problems += checked(case, backend, res, f"time_limit=1e-3 start={name} "
                            f"{literal(start)}", start, True, presolve=True, time_limit=1e-3)
    assert not problems, reproducer(index, backend, problems)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("index", range(N_MODELS))
def test_persistent_updates_match_a_fresh_model(index, backend):
    case, _, updates = model_case(index)
    model = get_backend(backend).build(case.milp)
    res = model.solve(mip_gap=MIP_GAP)
    problems = checked(case, backend, res, "before any update", presolve=True)
    for stage, (op, new) in enumerate(updates, 1):
        model.set_objective(op["c"], offset=op["offset"])
        model.set_row_bounds(op["rows"], op["lower"], op["upper"])
        current = model.milp
        if not all(np.array_equal(getattr(current, k), getattr(new.milp, k)) for k in (
                "c", "row_lower", "row_upper", "offset")):
            problems.append(f"update {stage}: model.milp is not the updated model")
        presolve = stage % 2 == 1
        start = None if res.x is None else res.x.tolist()   # the last answer, as a loop would
        res = model.solve(presolve=presolve, warm_start=start, mip_gap=MIP_GAP)
        fresh = solve(new.milp, backend=backend, presolve=presolve, warm_start=start,
                      mip_gap=MIP_GAP)
        where = f"update {stage} (presolve={presolve}, start {literal(start)})"
        problems += checked(new, backend, res, where, start, presolve=presolve)
        if res.status is not fresh.status or (new.ref.status == "optimal" and abs(
                res.objective - fresh.objective) > MIP_GAP * scale(new) + abs(
                    float(new.widened.value - new.ref.value))):
            problems.append(f"{where}: {res.status.value} {res.objective!r} in place, "
                            f"{fresh.status.value} {fresh.objective!r} afresh")
    assert not problems, reproducer(index, backend, problems, updates)
