"""Exact rational reference for small MILPs (tests only): status, optimum and an optimal point
in :class:`fractions.Fraction` arithmetic, and a feasibility check with an explicit tolerance.

Every float of the model is taken exactly (``Fraction(0.1)`` is the double nearest 0.1).
Integer columns (finite bounds) are enumerated; for each assignment the continuous columns
form an LP, solved exactly by Fourier-Motzkin elimination of the continuous columns from
``A_C y <= h``, ``t - sign * c_C @ y <= 0``, which leaves bounds on the LP's value ``t``. The
elimination depends only on ``A_C``, so it is done once per model, each derived constraint
kept as nonnegative multipliers of the original ones (whose right-hand sides move with the
assignment and the widening); an assignment then costs a few dot products. The cost grows
with the product of the integer domains and doubly exponentially in the continuous columns:
meant for up to 4 integer columns of a few values each and 2 continuous columns.

``solve(widen)`` solves the model with every row bound moved outward by ``widen * scale_i``
(``scale_i = max(1, max_j |A_ij|)``) and every continuous column bound by ``widen``: a point
with ``violation(x) <= tol`` (integral on integer columns) is feasible for the model widened
by ``tol``, so its value is at most (for "max") that model's optimum.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import NamedTuple

__all__ = ["ExactMILP", "Solution"]


class Solution(NamedTuple):
    status: str                    # "optimal", "infeasible" or "unbounded"
    value: Fraction | None         # optimum of c @ x + offset ("optimal" only)
    x: list | None                 # an optimal point, Fractions ("optimal" only)


def _exact(value) -> Fraction | None:
    """A bound as a Fraction, exactly; None for an infinite one."""
    return None if math.isinf(value) else Fraction(value)


def _outside(v, lo, hi) -> list:
    """How far ``v`` is below ``lo`` and above ``hi`` (None = infinite)."""
    return ([] if lo is None else [lo - v]) + ([] if hi is None else [v - hi])


def _dot(u, v) -> Fraction:
    return sum((a * b for a, b in zip(u, v) if a and b), Fraction(0))


class ExactMILP:
    """``optimise c @ x + offset`` s.t. ``row_lower <= A x <= row_upper``, ``col_lower <= x <=
    col_upper``, ``x[j]`` integer where ``integrality[j]``; ``A`` dense; every number a float,
    an integer or a Fraction (taken exactly), bounds may be infinite."""

    def __init__(self, c, A, row_lower, row_upper, col_lower, col_upper, integrality,
                 sense: str = "max", offset: float = 0.0):
        self.c = [Fraction(v) for v in c]
        self.A = [[Fraction(v) for v in row] for row in A]
        self.rows = [(_exact(lo), _exact(hi)) for lo, hi in zip(row_lower, row_upper)]
        self.cols = [(_exact(lo), _exact(hi)) for lo, hi in zip(col_lower, col_upper)]
        self.integer = [bool(v) for v in integrality]
        self.sign = 1 if sense == "max" else -1
        self.offset = Fraction(offset)
        self.scale = [max([abs(a) for a in row] + [Fraction(1)]) for row in self.A]
        self._ints = [j for j, i in enumerate(self.integer) if i]
        self._cont = [j for j, i in enumerate(self.integer) if not i]
        if any(None in self.cols[j] for j in self._ints):
            raise ValueError("ExactMILP: integer columns need finite bounds")
        # the finite sides of rows and continuous columns, and the objective, as constraints
        # g @ y + tc * t <= rhs - e @ x_int; rhs named by its source (row / column, side)
        self._source, self._e, vectors = [], [], []
        k, zero = len(self._cont), [Fraction(0)] * len(self._ints)
        for i, (row, bounds) in enumerate(zip(self.A, self.rows)):
            for side, bound in zip((1, -1), reversed(bounds)):
                if bound is not None:
                    self._source.append(("row", i, side))
                    self._e.append([side * row[j] for j in self._ints])
                    vectors.append([side * row[j] for j in self._cont] + [Fraction(0)])
        for pos, j in enumerate(self._cont):
            for side, bound in zip((1, -1), reversed(self.cols[j])):
                if bound is not None:
                    self._source.append(("col", j, side))
                    self._e.append(zero)
                    vectors.append([Fraction(side * (p == pos)) for p in range(k)]
                                   + [Fraction(0)])
        self._source.append(("objective", 0, 1))            # t - sign * c_C @ y <= 0
        self._e.append(zero)
        vectors.append([-self.sign * self.c[j] for j in self._cont] + [Fraction(1)])
        n = len(vectors)
        self._levels = [[tuple(g) + tuple(Fraction(int(o == p)) for p in range(n))
                         for o, g in enumerate(vectors)]]
        for j in reversed(range(k)):                          # eliminate y_j
            self._levels.append(self._eliminate(self._levels[-1], j, k + 1))

    @classmethod
    def from_milp(cls, milp) -> "ExactMILP":
        """From a :class:`solvers.MILP` (or anything with its fields)."""
        return cls(milp.c, milp.A.toarray(), milp.row_lower, milp.row_upper, milp.col_lower,
                   milp.col_upper, milp.integrality, milp.sense, milp.offset)

    @staticmethod
    def _eliminate(level, j, width) -> list:
        """Fourier-Motzkin step: ``level``'s constraints without ``y_j`` (vectors of ``width``
        coefficients, then multipliers scaled to a largest of 1; duplicates dropped)."""
        out = [v for v in level if v[j] == 0]
        for p in (v for v in level if v[j] > 0):
            for q in (v for v in level if v[j] < 0):
                v = [-q[j] * a + p[j] * b for a, b in zip(p, q)]
                top = max(v[width:])
                out.append(tuple(a / top for a in v))
        return list(dict.fromkeys(out))

    def _rhs(self, widen: Fraction) -> list:
        """The original constraints' right-hand sides at ``x_int = 0``, widened."""
        out = []
        for kind, i, side in self._source:
            if kind == "objective":
                out.append(Fraction(0))
            else:
                lo, hi = (self.rows if kind == "row" else self.cols)[i]
                out.append(side * (hi if side == 1 else lo)
                           + widen * (self.scale[i] if kind == "row" else 1))
        return out

    def solve(self, widen=0) -> Solution:
        """The exact optimum of the model widened by ``widen >= 0`` (the module docstring)."""
        b = self._rhs(Fraction(widen))
        k = len(self._cont)
        final = []              # (t coefficient, rhs at x_int = 0, rhs per integer column)
        for v in self._levels[-1]:
            lam = v[k + 1:]
            final.append((v[k], _dot(lam, b), [-_dot(lam, col) for col in zip(*self._e)]))
        final.sort(key=lambda f: f[0] != 0)            # feasibility constraints first
        domains = [range(math.ceil(self.cols[j][0]), math.floor(self.cols[j][1]) + 1)
                   for j in self._ints]
        c_int = [self.sign * self.c[j] for j in self._ints]
        best = None
        for xi in itertools.product(*domains):
            t = None
            for tc, rhs0, e in final:
                rhs = rhs0 + sum(a * x for a, x in zip(e, xi) if x)
                if tc == 0 and rhs < 0:
                    break
                if tc and (t is None or rhs / tc < t):
                    t = rhs / tc
            else:
                if t is None:
                    return Solution("unbounded", None, None)
                value = t + sum(a * x for a, x in zip(c_int, xi) if x)
                if best is None or value > best[0]:
                    best = (value, xi, t)
        if best is None:
            return Solution("infeasible", None, None)
        value, xi, t = best
        x = self._complete(b, xi, t)
        return Solution("optimal", self.sign * value + self.offset, x)

    def _complete(self, b, xi, t) -> list:
        """An optimal point for the integer assignment ``xi`` of LP value ``t``: each
        continuous column in turn at an end of the interval its level leaves it."""
        k = len(self._cont)
        h = [bo - _dot(e, xi) for bo, e in zip(b, self._e)]
        y = []
        for j in range(k):
            lo = hi = None
            for v in self._levels[k - 1 - j]:
                if v[j] == 0:
                    continue
                r = (_dot(v[k + 1:], h) - v[k] * t - _dot(v[:j], y)) / v[j]
                if v[j] > 0:
                    hi = r if hi is None else min(hi, r)
                else:
                    lo = r if lo is None else max(lo, r)
            y.append(lo if lo is not None else hi if hi is not None else Fraction(0))
        x = [Fraction(0)] * len(self.c)
        for j, v in zip(self._ints, xi):
            x[j] = Fraction(v)
        for j, v in zip(self._cont, y):
            x[j] = v
        return x

    def value(self, x) -> Fraction:
        """``c @ x + offset`` exactly (``x`` floats or Fractions, taken exactly)."""
        return _dot(self.c, map(Fraction, x)) + self.offset

    def violation(self, x) -> Fraction:
        """Largest violation by ``x`` (floats or Fractions, taken exactly) of a row (divided by
        its ``scale``), a column bound or integrality."""
        x = [Fraction(v) for v in x]
        parts = [Fraction(0)]
        for row, bounds, s in zip(self.A, self.rows, self.scale):
            act = _dot(row, x) / s
            parts += _outside(act, *(None if b is None else b / s for b in bounds))
        for v, bounds, integer in zip(x, self.cols, self.integer):
            parts += _outside(v, *bounds) + ([abs(v - round(v))] if integer else [])
        return max(parts)

    def is_feasible(self, x, tol) -> bool:
        """``violation(x) <= tol``; rows are met to ``tol`` times their scale."""
        return self.violation(x) <= Fraction(tol)
