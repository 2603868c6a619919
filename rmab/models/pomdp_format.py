"""Read and write Cassandra's ``.POMDP`` format (pomdp-solve, SARSOP, APPL, pomdp_py).

Format: http://pomdp.org/code/pomdp-file-spec.html. Supported:

* preamble ``discount:``, ``values: reward|cost``, ``states:``, ``actions:``,
  ``observations:`` (a count or a list of names);
* ``start:`` as a probability vector, a single state, ``uniform``, and the
  ``start include: <states>`` / ``start exclude: <states>`` forms (uniform over the set);
* ``T:``, ``O:`` and ``R:`` in all their forms (single entry, row, matrix), with named or
  numbered states/actions/observations and ``*`` wildcards; ``uniform``, ``identity`` and
  ``reset`` (= the start distribution) for transition rows/matrices, ``uniform`` (and
  ``identity`` when states and observations match) for observations; later lines override
  earlier ones.

Rewards ``R(a, s, s', o)`` become ``r(s, a) = Σ_{s', o} T(s'|s,a) O(o|s',a) R(a, s, s', o)``,
the expected reward earned in state ``s`` under ``a`` (``values: cost`` negates them); a reward
that depends on neither ``s'`` nor ``o`` (``R: a : s : * : * 1.5``) is taken exactly. The
format has no action costs: they default to zero; :func:`write_pomdp` records non-zero costs
in an ``# rmab-costs:`` comment, which :func:`read_pomdp` reads back and other tools ignore.
Rows of ``T`` and ``O`` must sum to 1 within ``1e-5``; rows off by more than ``1e-9`` are
renormalised. A ``start:`` vector must sum to 1 within ``1e-5`` too and is divided by its sum.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rmab._validation import (DECIMAL, DISCOUNT_GAP, PROB_TOL, _short, as_float_array,
                              check_discount, check_path, zero_rounding)
from rmab.errors import InvalidModelError, InvalidParameterError, POMDPFormatError
from rmab.models.arms import POMDPArms
from rmab.models.instance import Instance
from rmab.models.storage import atomic_write

__all__ = ["PomdpModel", "POMDPFormatError", "read_pomdp", "write_pomdp", "parse_pomdp"]

_ROW_TOL = 1e-5
_PREAMBLE = ("discount", "values", "states", "actions", "observations")
_RESERVED = frozenset(_PREAMBLE + ("start", "include", "exclude", "uniform", "identity",
                                   "reset", "T", "O", "R"))
_MAX_ENTRIES = 50_000_000   # dense T, O and R entries read (400 MB of float64)
# names write_pomdp keeps: the format's STRING token, not a keyword of its grammar
# (pomdp-solve's lexer also has 'reward' and 'cost'); others are written as a count
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
_KEYWORDS = _RESERVED | {"reward", "cost"}


@dataclass(frozen=True, eq=False)
class PomdpModel:
    """A POMDP read from (or to be written to) a ``.POMDP`` file.

    Attributes
    ----------
    arms : POMDPArms with one arm
    discount : float
    start : (S,) start belief
    state_names, action_names, obs_names : tuples of str (``"0", "1", ...`` when numbered)
    metadata : dict; :func:`read_pomdp` sets ``name`` (the file's stem) and ``values``
        (``"reward"``, or ``"cost"``: ``arms.rewards`` are then the file's costs negated)
    """

    arms: POMDPArms
    discount: float
    start: np.ndarray
    state_names: tuple = ()
    action_names: tuple = ()
    obs_names: tuple = ()
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.arms, POMDPArms) or self.arms.n_arms != 1:
            raise InvalidModelError("PomdpModel.arms: must be POMDPArms with one arm; got "
                                    f"{type(self.arms).__name__}")
        check_discount("PomdpModel", self.discount, one=True, error=InvalidModelError)
        given = as_float_array("PomdpModel", "start", self.start)
        start = zero_rounding(given)
        if start.shape != (self.arms.n_states,) or (start < 0).any() \
                or abs(start.sum() - 1.0) > 1e-9:       # the entries as given, not rounded
            raise InvalidModelError(f"PomdpModel.start: must be a distribution over "
                                    f"{self.arms.n_states} states; got {given.tolist()} (sum "
                                    f"{float(given.sum())!r})")
        start.setflags(write=False)
        object.__setattr__(self, "start", start)
        for attr, n in (("state_names", self.arms.n_states), ("action_names", self.arms.n_actions),
                        ("obs_names", self.arms.n_obs)):
            given = getattr(self, attr)
            try:                                   # a str would be split into its letters
                names = None if isinstance(given, str) else tuple(given)
            except TypeError:
                names = None
            if names is None:
                raise InvalidModelError(f"PomdpModel.{attr}: must be a sequence of {n} names "
                                        f"(str); got {given!r}")
            names = names or tuple(str(i) for i in range(n))
            if len(names) != n:
                raise InvalidModelError(f"PomdpModel.{attr}: must hold {n} names; got "
                                        f"{len(names)}")
            if not all(isinstance(x, str) for x in names):
                raise InvalidModelError(f"PomdpModel.{attr}: must be strings; got "
                                        f"{names!r}")
            object.__setattr__(self, attr, tuple(map(str, names)))   # np.str_ to str
        if not isinstance(self.metadata, Mapping):
            raise InvalidModelError(f"PomdpModel.metadata: must be a mapping (dict); got "
                                    f"{type(self.metadata).__name__}")

    def to_instance(self, *, budget: float = 0.0, horizon: int | None = None,
                    name: str | None = None) -> Instance:
        """A one-arm :class:`Instance` (start belief as initial belief)."""
        return Instance(self.arms, budget, discount=self.discount, horizon=horizon,
                        initial_belief=self.start, name=name or self.metadata.get("name", "pomdp"),
                        metadata={"source": "pomdp", "states": list(self.state_names),
                                  "actions": list(self.action_names),
                                  "observations": list(self.obs_names)})


# -- reading --------------------------------------------------------------------------------

class _Tokens:
    """Whitespace/colon tokens with their line numbers; comments stripped."""

    def __init__(self, text: str, file):
        self.file = file
        self.items: list[tuple[str, int]] = []
        self.costs: tuple[list[str], int] | None = None
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for lineno, raw in enumerate(lines, start=1):     # not splitlines: \f, \u2028 ...
            line, _, comment = raw.partition("#")
            # a line of its own; '#rmab-costs:' too (skipped, it left the file "without costs")
            if comment.lstrip().startswith("rmab-costs:") and not line.strip():
                if self.costs is not None:
                    raise POMDPFormatError(f"rmab-costs: given twice (first on line "
                                           f"{self.costs[1]})", file=file, line=lineno)
                self.costs = (comment.split(":", 1)[1].split(), lineno)
            for tok in re.findall(r"[^\s:]+|:", line):
                self.items.append((tok, lineno))
        self.pos = 0

    def error(self, message, line=None) -> POMDPFormatError:
        if line is None:  # the line of the last token read
            line = self.items[min(max(self.pos - 1, 0), len(self.items) - 1)][1] \
                if self.items else 1
        return POMDPFormatError(message, file=self.file, line=line)

    def peek(self, k: int = 0):
        i = self.pos + k
        return self.items[i][0] if i < len(self.items) else None

    def line(self) -> int:
        return self.items[min(self.pos, len(self.items) - 1)][1] if self.items else 1

    def take(self, what: str = "a token") -> str:
        if self.pos >= len(self.items):
            last = self.items[-1][1] if self.items else 1
            raise self.error(f"unexpected end of file: expected {what}", last)
        tok = self.items[self.pos][0]
        self.pos += 1
        return tok

    def expect(self, tok: str):
        got = self.take(repr(tok))
        if got != tok:
            raise self.error(f"expected {tok!r}; got {got!r}")

    def at_statement(self, k: int = 0) -> bool:
        """True at the start of a new statement (``keyword :`` or ``start include/exclude``),
        ``k`` tokens ahead."""
        tok = self.peek(k)
        if tok is None:
            return True
        if tok in _PREAMBLE + ("start", "T", "O", "R") and self.peek(k + 1) == ":":
            return True
        return tok == "start" and self.peek(k + 1) in ("include", "exclude")

    def number(self, what: str = "a number") -> float:
        tok = self.take(what)
        sign = ""
        if tok in ("+", "-"):                   # Cassandra's grammar: optional_sign number
            sign, tok = tok, self.take(what)
            if tok[:1] in ("+", "-"):
                raise self.error(f"expected {what}; got {sign!r} then {tok!r}")
        if not DECIMAL.fullmatch(tok):          # no nan, inf, 1_000 or non-ASCII digits
            raise self.error(f"expected {what}; got {tok!r}")
        tok = sign + tok
        value = float(tok)
        if not np.isfinite(value):
            raise self.error(f"expected {what}, finite; got {tok!r}")
        return value

    def numbers(self, count: int, what: str) -> np.ndarray:
        return np.array([self.number(what) for _ in range(count)])

    def rows(self, count: int, cols: int, what: str, per: str) -> np.ndarray:
        """``count`` numbers making rows of ``cols`` (one per ``per``). When the numbers
        before the next statement are too few or too many, a line holding other than whole
        rows is the error's line (numbers may wrap freely, but one row per line is usual)."""
        counts: dict[int, int] = {}
        k = 0
        while (tok := self.peek(k)) is not None and (tok in ("+", "-")
                                                     or DECIMAL.fullmatch(tok)):
            if tok not in ("+", "-"):
                line = self.items[self.pos + k][1]
                counts[line] = counts.get(line, 0) + 1
            k += 1
        given = sum(counts.values())
        if given > count or (given < count and self.at_statement(k)):
            for line, n in counts.items():
                if n % cols:
                    raise self.error(f"{what}: this line holds {n} number{'s' * (n != 1)}, "
                                     f"not whole rows of {cols} (one per {per})", line)
        return self.numbers(count, f"{count} numbers for {what}")


class _Reader:
    def __init__(self, text: str, file):
        self.tk = _Tokens(text, file)
        self.discount = None
        self.sign = 1.0
        self.names: dict[str, list[str]] = {}
        self.sizes: dict[str, int] = {}
        self.start = None

    # preamble
    def read(self) -> PomdpModel:
        tk = self.tk
        seen = set()
        while tk.peek() in _PREAMBLE and tk.peek(1) == ":":
            line = tk.line()
            key = tk.take()
            if key in seen:
                raise tk.error(f"{key}: declared twice", line)
            seen.add(key)
            tk.expect(":")
            if key == "discount":
                line = tk.line()
                self.discount = tk.number("the discount")
                if not (0.0 < self.discount <= 1.0 - DISCOUNT_GAP or self.discount == 1.0):
                    raise tk.error(f"discount: must be in (0, 1 - {DISCOUNT_GAP:g}] or 1; got "
                                   f"{self.discount!r}", line)
            elif key == "values":
                kind = tk.take("reward or cost")
                if kind not in ("reward", "cost"):
                    raise tk.error(f"values: must be 'reward' or 'cost'; got {kind!r}")
                self.sign = 1.0 if kind == "reward" else -1.0
            else:
                self._read_set(key)
        for key in ("states", "actions", "observations"):
            if key not in self.sizes:
                hint = "" if seen or not tk.items else (   # another kind of file (a CSV)?
                    f"; the file begins {_short(tk.items[0][0])}, not like a .POMDP file "
                    f"(docs/values.md)")
                raise tk.error(f"preamble: must declare {key}: before the model entries{hint}",
                               tk.line())
        if self.discount is None:
            raise tk.error("preamble: must declare discount:", tk.line())
        s, a, o = self.sizes["states"], self.sizes["actions"], self.sizes["observations"]
        if a * s * s * (o + 1) + a * s * o > _MAX_ENTRIES:
            raise tk.error(f"preamble: at most {_MAX_ENTRIES} dense entries of T, O and R; "
                           f"got {a} actions, {s} states, {o} observations", tk.line())
        self.t = np.zeros((a, s, s))
        self.o = np.zeros((a, s, o))
        self.r = np.zeros((a, s, s, o))
        self.t_line = np.zeros((a, s), dtype=np.int64)
        self.o_line = np.zeros((a, s), dtype=np.int64)
        if tk.peek() == "start":
            self._read_start()
        start = self.start if self.start is not None else np.full(s, 1.0 / s)
        self._reset_row = start
        while tk.peek() is not None:
            key = tk.peek()
            if key in ("T", "O", "R") and tk.peek(1) == ":":
                tk.take()
                tk.take()
                getattr(self, f"_read_{key.lower()}")()
            elif key == "start" and self.start is not None:
                raise tk.error("start: given twice", tk.line())
            elif key == "start" or (key in _PREAMBLE and tk.peek(1) == ":"):
                raise tk.error(f"{key}: must come before the T:, O: and R: entries", tk.line())
            else:
                raise tk.error(f"expected T:, O: or R:; got {key!r}", tk.line())
        return self._model(start)

    def _read_set(self, key):
        tk = self.tk
        line = tk.line()
        first = tk.take(f"the {key}")
        if re.fullmatch(r"[0-9]+", first):
            n = int(first)
            sizes = {**self.sizes, key: n}     # T's entries a * s * s * (o + 1), so far
            dense = (sizes.get("actions", 1) * sizes.get("states", 1) ** 2
                     * (sizes.get("observations", 0) + 1))
            if dense > _MAX_ENTRIES:            # refused before its names are made
                known = "".join(f", {v} {k}" for k, v in self.sizes.items())
                raise tk.error(f"{key}: at most {_MAX_ENTRIES} dense entries of T, O and R; "
                               f"got {n} {key}{known}", line)
            names = [str(i) for i in range(n)]
        else:
            names = [first]
            while not tk.at_statement():
                names.append(tk.take())
            bad = [x for x in names if x[0].isdigit() or _is_number(x)]
            if bad:
                raise tk.error(f"{key}: must be a count or names not beginning with a digit; "
                               f"got {bad[0]!r}", line)
            taken = [x for x in names if x in ("*", ":") or x in _RESERVED]
            if taken:   # '*', ':' and keywords could never be referred to by name
                raise tk.error(f"{key}: names must not be '*', ':' or a keyword of the format; "
                               f"got {taken[0]!r}", line)
            if len(set(names)) != len(names):
                raise tk.error(f"{key}: names must be distinct; got {names}", line)
        if not names:
            raise tk.error(f"{key}: must be at least 1; got 0", line)
        self.sizes[key] = len(names)
        self.names[key] = names

    def _index(self, kind: str, tok: str) -> list[int]:
        """Indices named by ``tok`` (a number, a name or ``*``)."""
        names = self.names[kind]
        if tok == "*":
            return list(range(len(names)))
        if re.fullmatch(r"[0-9]+", tok):
            i = int(tok)
            if i >= len(names):
                raise self.tk.error(f"{kind[:-1]} index must be < {len(names)}; got {i}")
            return [i]
        try:
            return [names.index(tok)]
        except ValueError:
            raise self.tk.error(f"unknown {kind[:-1]} {tok!r}{_known(kind, names, tok)}") \
                from None

    def _item(self, kind):
        return self._index(kind, self.tk.take(f"a {kind[:-1]}"))

    def _read_start(self):
        tk = self.tk
        s = self.sizes["states"]
        tk.take()
        line = tk.line()
        mode = None
        if tk.peek() in ("include", "exclude"):
            mode = tk.take()
        tk.expect(":")
        if mode is not None:
            chosen = set()
            while not tk.at_statement():
                chosen.update(self._item("states"))
            if not chosen:
                raise tk.error(f"start {mode}: must name at least one state", line)
            mask = np.zeros(s, dtype=bool)
            mask[list(chosen)] = True
            if mode == "exclude":
                mask = ~mask
            if not mask.any():
                raise tk.error(f"start {mode}: leaves no state", line)
            self.start = mask / mask.sum()
            return
        tok = tk.peek()
        n_numbers = 0
        while tk.peek(n_numbers) is not None and _is_number(tk.peek(n_numbers)):
            n_numbers += 1
        if tok == "uniform":
            tk.take()
            self.start = np.full(s, 1.0 / s)
        elif tok == "*":
            raise tk.error("start: '*' names every state, not one; give 'start: uniform' or "
                           "the probabilities", line)
        elif tok is not None and (not _is_number(tok) or (
                re.fullmatch(r"[0-9]+", tok) and not (n_numbers == s and (s > 1 or tok != "0")))):
            idx = self._item("states")          # a single start state, by name or number
            self.start = np.zeros(s)
            self.start[idx[0]] = 1.0
        else:
            vec = tk.rows(s, s, "start", "state")
            if (vec < 0).any() or abs(vec.sum() - 1.0) > _ROW_TOL:
                raise tk.error(f"start: must be a probability vector; got {vec.tolist()}", line)
            off = abs(vec.sum() - 1.0) > PROB_TOL     # rows the arms take are left alone,
            self.start = vec / vec.sum() if off else vec   # so a written start reads back

    def _matrix(self, rows, cols, line, *, allow_identity, allow_reset, what, per):
        """``uniform`` / ``identity`` / ``reset`` / rows*cols numbers -> (rows, cols) checked
        probabilities and each row's line (that of its last number; else ``line``)."""
        tk = self.tk
        tok = tk.peek()
        lines = np.full(rows, line, dtype=np.int64)
        if tok == "uniform":
            tk.take()
            return np.full((rows, cols), 1.0 / cols), lines
        if tok == "identity" and allow_identity:
            tk.take()
            if rows != cols:
                raise tk.error(f"identity: needs a square matrix; got {rows} x {cols}")
            return np.eye(rows), lines
        if tok == "reset" and allow_reset:
            tk.take()
            return np.repeat(self._reset_row[None], rows, axis=0), lines
        first = tk.pos
        mat = tk.rows(rows * cols, cols, what, per).reshape(rows, cols)
        lines[:] = [tk.items[first + (i + 1) * cols - 1][1] for i in range(rows)]
        self._check_probs(mat, lines)
        return mat, lines

    def _read_t(self):
        tk = self.tk
        line = tk.line()
        s = self.sizes["states"]
        acts = self._item("actions")
        if tk.peek() != ":":
            mat, lines = self._matrix(s, s, line, allow_identity=True, allow_reset=True,
                                      what="T matrix", per="end state")
            for a in acts:
                self.t[a] = mat
                self.t_line[a] = lines
            return
        tk.take()
        src = self._item("states")
        if tk.peek() != ":":
            row, lines = self._matrix(1, s, line, allow_identity=False, allow_reset=True,
                                      what="T row", per="end state")
            for a in acts:
                self.t[a, src] = row[0]
                self.t_line[a, src] = lines[0]
            return
        tk.take()
        dst = self._item("states")
        p = tk.number("a probability")
        self._check_probs(np.array([[p]]), [line])
        for a in acts:
            for i in src:
                self.t[a, i, dst] = p
                self.t_line[a, i] = line

    def _read_o(self):
        tk = self.tk
        line = tk.line()
        s, n_obs = self.sizes["states"], self.sizes["observations"]
        acts = self._item("actions")
        if tk.peek() != ":":
            mat, lines = self._matrix(s, n_obs, line, allow_identity=True, allow_reset=False,
                                      what="O matrix", per="observation")
            for a in acts:
                self.o[a] = mat
                self.o_line[a] = lines
            return
        tk.take()
        dst = self._item("states")
        if tk.peek() != ":":
            row, lines = self._matrix(1, n_obs, line, allow_identity=False, allow_reset=False,
                                      what="O row", per="observation")
            for a in acts:
                self.o[a, dst] = row[0]
                self.o_line[a, dst] = lines[0]
            return
        tk.take()
        obs = self._item("observations")
        p = tk.number("a probability")
        self._check_probs(np.array([[p]]), [line])
        for a in acts:
            for j in dst:
                self.o[a, j, obs] = p
                self.o_line[a, j] = line

    def _read_r(self):
        tk = self.tk
        s, n_obs = self.sizes["states"], self.sizes["observations"]
        acts = self._item("actions")
        tk.expect(":")
        src = self._item("states")
        ix = np.ix_
        if tk.peek() != ":":
            mat = tk.rows(s * n_obs, n_obs, "R matrix (end states x observations)",
                          "observation")
            for a in acts:
                self.r[ix([a], src)] = mat.reshape(s, n_obs)
            return
        tk.take()
        dst = self._item("states")
        if tk.peek() != ":":
            row = tk.rows(n_obs, n_obs, "R row", "observation")
            for a in acts:
                self.r[ix([a], src, dst)] = row
            return
        tk.take()
        obs = self._item("observations")
        val = tk.number("a reward")
        for a in acts:
            self.r[ix([a], src, dst, obs)] = val

    def _check_probs(self, arr, lines):
        """``arr`` (rows, cols) read on ``lines`` (rows,): the first entry outside [0, 1] is
        an error on its row's line."""
        bad = np.argwhere((arr < 0) | (arr > 1.0 + _ROW_TOL))
        if len(bad):
            i, j = (int(x) for x in bad[0])
            where = f" (row {i + 1}, entry {j + 1})" if arr.size > 1 else ""
            raise self.tk.error(f"probabilities must lie in [0, 1]; got "
                                f"{float(arr[i, j])!r}{where}", int(lines[i]))

    def _model(self, start) -> PomdpModel:
        tk = self.tk
        for arr, lines, label, axis_name in ((self.t, self.t_line, "T", "start state"),
                                             (self.o, self.o_line, "O", "end state")):
            sums = arr.sum(axis=2)
            bad = np.argwhere(np.abs(sums - 1.0) > _ROW_TOL)
            if len(bad):
                a, i = (int(x) for x in bad[0])
                where = lines[a, i]
                what = (f"{label}: row for action {self.names['actions'][a]!r}, {axis_name} "
                        f"{self.names['states'][i]!r} must sum to 1; got {sums[a, i]:.6g}")
                if where:
                    raise tk.error(what + " (last set here)", int(where))
                raise POMDPFormatError(what + " (never set)", file=tk.file)
            off = np.abs(sums - 1.0) > PROB_TOL       # rows the arms take stay bit-for-bit
            arr[off] /= sums[off][:, None]
        # r(s, a) = Σ_{s', o} T(s'|s,a) O(o|s',a) R(a, s, s', o); a reward that depends on
        # neither s' nor o is taken as it is (rows summing to 1 within 1e-9 would scale it).
        # Summed around R(a, s, 0, 0) instead, an unlikely large R(a, s, 0, 0) cancelled the
        # others (-1e12 there read a certain 0.1 as 0.09998)
        base = self.r[:, :, 0, 0]
        constant = (self.r == base[:, :, None, None]).all(axis=(2, 3))
        with np.errstate(over="ignore", invalid="ignore"):
            direct = np.einsum("ast,ato,asto->as", self.t, self.o, self.r)
            rewards = self.sign * np.where(constant, base, direct).T
        if not np.all(np.isfinite(rewards)):       # finite entries, an infinite expectation
            s, a = (int(x) for x in np.argwhere(~np.isfinite(rewards))[0])
            raise POMDPFormatError(f"R: the expected reward of action "
                                   f"{self.names['actions'][a]!r} in state "
                                   f"{self.names['states'][s]!r} must be finite; its entries "
                                   f"(up to {np.abs(self.r).max():.3g}) overflow float64",
                                   file=tk.file)
        n_actions = self.sizes["actions"]
        costs = np.zeros(n_actions)
        if tk.costs is not None:
            values, line = tk.costs
            if not all(_is_number(x) for x in values):        # no nan or inf either
                raise tk.error(f"rmab-costs: must be numbers; got {values}", line)
            costs = np.array([float(x) for x in values])
            if costs.shape != (n_actions,):
                raise tk.error(f"rmab-costs: must give {n_actions} costs; got {len(costs)}", line)
        try:
            arms = POMDPArms(self.t[None], self.o[None], rewards[None], costs[None])
        except InvalidModelError as exc:
            at = tk.costs[1] if tk.costs is not None and ".costs" in str(exc) else None
            raise (tk.error(str(exc), at) if at is not None
                   else POMDPFormatError(str(exc), file=tk.file)) from exc
        return PomdpModel(arms, float(self.discount), start, tuple(self.names["states"]),
                          tuple(self.names["actions"]), tuple(self.names["observations"]),
                          {"name": Path(str(tk.file)).stem if tk.file else "pomdp",
                           "values": "reward" if self.sign > 0 else "cost"})


def _is_number(tok: str) -> bool:
    return DECIMAL.fullmatch(tok) is not None


def parse_pomdp(text: str, *, file=None) -> PomdpModel:
    """Parse the text of a ``.POMDP`` file (``file`` only names it in errors)."""
    if not isinstance(text, str):
        raise InvalidParameterError(f"parse_pomdp.text: must be a string; got "
                                    f"{type(text).__name__}")
    return _Reader(text, file).read()


def read_pomdp(path) -> PomdpModel:
    """Read a ``.POMDP`` file; raises :class:`POMDPFormatError` naming the line on bad input."""
    check_path("read_pomdp", path)
    path = Path(path)
    if not path.is_file():
        raise InvalidParameterError(f"read_pomdp.path: must be an existing file; got "
                                    f"{str(path)!r}")
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if raw.startswith(b"PK\x03\x04"):              # what save_instance writes
            raise POMDPFormatError("not a .POMDP text file but an .npz archive (an rmab "
                                   "instance is read by rmab.load_instance, or 'rmab bound', "
                                   "'rmab compare')", file=path) from exc
        body, at = exc.object, exc.start            # the bytes after a byte-order mark
        before = body[:at]
        breaks = [m.end() for m in re.finditer(rb"\r\n|\r|\n", before)]   # as the parser's
        start = breaks[-1] if breaks else 0
        column = len(before[start:].decode("utf-8", errors="replace")) + 1     # characters
        raise POMDPFormatError(f"must be UTF-8 text; got byte 0x{body[at]:02x} at column "
                               f"{column} (saved in another encoding?)", file=path,
                               line=len(breaks) + 1) from exc
    except OSError as exc:
        raise InvalidParameterError(f"read_pomdp.path: must be a readable file; got "
                                    f"{str(path)!r} ({exc})") from exc
    return parse_pomdp(text, file=path)


# -- writing --------------------------------------------------------------------------------

def _fmt(x: float) -> str:
    """Shortest round-tripping positional form with a digit on both sides of the point."""
    text = np.format_float_positional(float(x), unique=True, trim="0")
    return text if "." in text else text + ".0"


def _names(given, n):
    names = tuple(given) if given else ()
    if names and len(names) == n and all(_NAME.fullmatch(x) for x in names) \
            and len(set(names)) == n and not _KEYWORDS.intersection(names):
        return " ".join(names)
    return str(n)


def write_pomdp(model, path, *, discount: float | None = None, start=None) -> Path:
    """Write a :class:`PomdpModel` (or a one-arm :class:`POMDPArms` plus ``discount``) to
    ``path`` atomically; ``discount`` and ``start`` (default uniform), if given, replace a
    model's. Rewards are written as ``R: a : s : * : * r(s, a)`` (a model read from a
    ``values: cost`` file is written back as costs, ``-r(s, a)``); non-zero action costs go to
    an ``# rmab-costs:`` comment. Names go in as given where the format can hold them all
    (each an ASCII letter then letters, digits, ``_`` or ``-``, distinct, no keyword such as
    ``reward``); otherwise that list is written as a count, and reads back numbered. Returns
    the path."""
    owner = "write_pomdp"
    if isinstance(model, POMDPArms):
        if discount is None:
            raise InvalidParameterError(f"{owner}.discount: must be given with POMDPArms; "
                                        f"got None")
        if model.n_arms != 1:
            raise InvalidParameterError(f"{owner}.model: must hold one arm; got "
                                        f"{model.n_arms}")
        s = model.n_states
        model = PomdpModel(model, discount, np.full(s, 1.0 / s) if start is None else start)
    elif not isinstance(model, PomdpModel):
        raise InvalidParameterError(f"{owner}.model: must be a PomdpModel or POMDPArms; got "
                                    f"{type(model).__name__}")
    else:
        changes = {k: v for k, v in (("discount", discount), ("start", start)) if v is not None}
        model = replace(model, **changes) if changes else model
    check_path(owner, path)
    arms = model.arms
    t, o, r, c = arms.transitions[0], arms.observations[0], arms.rewards[0], arms.costs[0]
    values = "cost" if model.metadata.get("values") == "cost" else "reward"
    sign = -1.0 if values == "cost" else 1.0
    lines = ["# written by rmab (Cassandra .POMDP format)",
             f"discount: {_fmt(model.discount)}", f"values: {values}",
             f"states: {_names(model.state_names, arms.n_states)}",
             f"actions: {_names(model.action_names, arms.n_actions)}",
             f"observations: {_names(model.obs_names, arms.n_obs)}"]
    if np.any(c != 0):
        lines.append("# rmab-costs: " + " ".join(_fmt(x) for x in c))
    lines.append("start: " + " ".join(_fmt(x) for x in model.start))
    lines.append("")
    for a in range(arms.n_actions):
        lines.append(f"T: {a}")
        lines.extend(" ".join(_fmt(x) for x in row) for row in t[a])
    lines.append("")
    for a in range(arms.n_actions):
        lines.append(f"O: {a}")
        lines.extend(" ".join(_fmt(x) for x in row) for row in o[a])
    lines.append("")
    for a in range(arms.n_actions):
        for s in range(arms.n_states):
            lines.append(f"R: {a} : {s} : * : * {_fmt(sign * r[s, a])}")
    path = Path(path)
    with atomic_write(path, ".pomdp") as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _known(kind: str, names: list, tok: str) -> str:
    """The names ``tok`` could have meant, for an unknown name's message: the declared ones
    (up to 10) and the closest; numbered ones by their count alone (the number nearest '1a'
    is a guess)."""
    import difflib

    if names == [str(i) for i in range(len(names))]:
        return f" ({kind} are numbered 0 to {len(names) - 1})"
    close = difflib.get_close_matches(tok, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(map(repr, names[:10])) + (", ..." if len(names) > 10 else "")
    return f" ({kind} declared: {shown}){hint}"
