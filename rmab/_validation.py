"""Boundary checks shared by public constructors and functions (private).

Each helper raises an :class:`~rmab.errors.RmabError` subclass whose message follows the
template ``"<owner>.<field>: must be <constraint>; got <value>"``.
"""

from __future__ import annotations

import json
import numbers
import os
import re

import numpy as np

from rmab.errors import InvalidModelError, InvalidParameterError

PROB_TOL = 1e-9
BELIEF_TOL = 1e-6   # a belief row's sum: beliefs are data, rounded where they were written
# a decimal number in ASCII (Python's float() also takes "1_0", "nan" and non-ASCII digits)
# (unambiguous: "[0-9]+\.?[0-9]*" split a run of digits every way, quadratic time on a
# cell of digits that is no number, 12 s for 20 000 digits and a comma)
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_FINITE = ("inf", "infinity", "nan")


def decimal_float(text: str) -> float:
    """``float`` of an ASCII decimal number only (Python's also takes ``1_0`` and non-ASCII
    digits); ``inf`` and ``nan`` pass here, for the caller to refuse where they make no
    sense. Raises ValueError."""
    if not (DECIMAL.fullmatch(text) or text.lstrip("+-").lower() in _NOT_FINITE):
        raise ValueError(f"not a decimal number: {text!r}")
    return float(text)


# a whole number written with thousands separators: 1,000 or -12,345,678
THOUSANDS = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+"


def comma_hint(text: str, length: int | None = None, listed: bool = False) -> str:
    """A hint for a number, or ``;``-separated numbers (``listed``, or ``length`` of them),
    written with commas, to append to the message refusing ``text``: ``" (a decimal comma?
    write '2.5')"`` where the commas read as decimal points give the numbers (``2,5``,
    ``0,4;0,6``), ``" (',' between the numbers? write '0;1;2')"`` where they read as
    separators do (``0,1,2`` for three costs); both ways for ``1,000``; a thousands
    separator for ``1,000,000`` and ``1,000.5``; else ``""``. What to write is shortened as
    :func:`_short` quotes a cell (a 1 MB cell's hint was 1 MB)."""
    text = text.strip()
    if "," not in text:
        return ""

    def numbers(cell: str):
        try:
            return [decimal_float(x.strip()) for x in cell.split(";")]
        except ValueError:
            return None

    points, semis = text.replace(",", "."), text.replace(",", ";")
    as_points = numbers(points)
    as_lists = None if ";" in text else numbers(semis)
    if as_lists is not None and (listed or length is not None) \
            and (length is None or len(as_lists) == length):
        return f" (',' between the numbers? write {_short(semis)})"
    # thousands separators: 1,000 reads both ways; 1,000,000 and 1,000.5 as no decimal comma
    if length is None and not listed \
            and re.fullmatch(THOUSANDS + r"(?:\.[0-9]*)?", text):
        plain = text.replace(",", "")
        return f" (a thousands separator? write {_short(plain)})" if as_points is None else \
            f" (write {plain!r} for a thousands separator, {points!r} for a decimal comma)"
    if as_points is None or (length is not None and len(as_points) != length):
        return ""
    return f" (a decimal comma? write {_short(points)})"


def field_count_hint(row: list[str], names: list[str], lists=()) -> str:
    """The hint for a CSV ``row`` whose fields are not as many as the header's ``names``: a
    blank before a quote makes the quotes part of the cell; a row ``d`` fields too long may
    hold an unquoted cell of numbers with ',' between them (a belief ``0.4,0.6``) split into
    ``d + 1``, named with what to write where exactly one run of cells of a column among
    ``lists`` (cells of ';'-separated numbers) joined back reads so (a decimal comma or a
    text cell is not told from a shifted cell), else the general hint; else ``""``."""
    if any(c[:1].isspace() and c.lstrip()[:1] == '"' for c in row):
        return (" (a blank before a quote makes the quotes part of the cell, and the commas "
                "inside split it: remove the blank)")
    d = len(row) - len(names)
    if d <= 0:
        return ""
    cells = [c.strip() for c in row]
    found = []
    for j, name in enumerate(names):
        if name not in lists:                 # (a log has none: no run joined per column)
            continue
        run = ",".join(cells[j:j + d + 1])
        if ";" not in run and all(cells[j:j + d + 1]):
            hint = comma_hint(run, listed=True)
            if hint:                          # the cells shortened, as the errors quote them
                found.append(f" (the {name!r} cell {_short(run)}, split at its ','?){hint}")
    return found[0] if len(found) == 1 else " (a ',' inside a cell? quote it or use ';')"


def decimal_int(text: str) -> int:
    """``int`` of ASCII digits with an optional sign only (Python's also takes ``1_0`` and
    non-ASCII digits). Raises ValueError."""
    if not re.fullmatch(r"[+-]?[0-9]+", text.strip()):
        raise ValueError(f"not an integer: {text!r}")
    return int(text)


def budget_slack(budget: float) -> float:
    """How far a joint action's cost may exceed ``budget`` and still be within it: the float
    rounding of a sum of costs, ``1e-9`` relative to the budget (at least ``1e-9``)."""
    return 1e-9 * max(1.0, abs(float(budget)))


SCALE_LIMIT = 1e300   # values a few times larger still fit in float64 (max 1.8e308)


def default_discount(discount, horizon):
    """``discount`` as given, or if None: 1.0 with a finite ``horizon`` (the plain total, as
    ``solve_finite_pbvi`` and ``finite_whittle_indices`` take it), else 0.95. One default for
    the functions that take an optional horizon: ``fib_bound(horizon=10)`` discounted by
    0.95 while ``solve_finite_pbvi(horizon=10)`` did not, so the default "upper bound" lay
    below the default "lower bound" (a practitioner's review)."""
    if discount is None:
        return 0.95 if horizon is None else 1.0
    return discount


def discounted_periods(discount: float, horizon: int | None = None) -> float:
    """``Σ_{t < H} β^t``: the weight of a per-period bound in a value (``H`` infinite when
    ``horizon`` is None)."""
    if horizon is None:
        return 1.0 / (1.0 - discount)
    return float(horizon) if discount == 1.0 else (1.0 - discount ** horizon) / (1.0 - discount)


DISCOUNT_GAP = 1e-9


def undiscounted_hint(owner: str, finite: str | None = None) -> str:
    """The hint where discount 1, the plain total, is refused for want of a finite horizon:
    ``finite`` says how to give one (e.g. ``"pass horizon=H"``); None: ``owner`` takes none."""
    how = f", which {owner} does not take" if finite is None else f": {finite}"
    return f" (discount 1, the plain total, needs a finite horizon{how})"


def check_discount(owner: str, discount, *, one: bool = False, error=InvalidParameterError,
                   field: str = "discount", finite: str | None = None) -> float:
    """``discount`` in (0, 1), or in (0, 1] with ``one`` (a finite horizon), as float; refused
    within ``DISCOUNT_GAP`` below 1: values grow as ``1 / (1 - discount)`` and leave float64 no
    digits for the differences between actions (Whittle indices off by 1e-5 at 1 - 1e-10 and by
    12 % at 1 - 1e-11, and episodes of billions of periods). A refused 1 is told the
    finite-horizon way, ``finite`` (:func:`undiscounted_hint`)."""
    if (not one and isinstance(discount, (numbers.Real, np.integer, np.floating))
            and not isinstance(discount, (bool, np.bool_)) and discount == 1):
        raise error(f"{owner}.{field}: must be < 1.0; got {float(discount)}"
                    + undiscounted_hint(owner, finite))
    discount = check_number(owner, field, discount, low=0.0, high=1.0, low_open=True,
                            high_open=not one, error=error)
    if 1.0 - DISCOUNT_GAP < discount < 1.0:
        raise error(f"{owner}.{field}: must be at most 1 - {DISCOUNT_GAP:g}"
                    + (" or exactly 1 (with a horizon)" if one else "") + f"; got {discount!r}"
                    f" (values of order 1 / (1 - discount) leave float64 no digits for the "
                    f"differences between actions)")
    return discount


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_float_array(owner: str, field: str, value, *, ndim: int | None = None,
                   error=InvalidModelError, allow_inf: bool = False,
                   first_axis: str = "arm") -> np.ndarray:
    """Coerce to a float64 C-contiguous copy, checking dimension and finiteness (``allow_inf``:
    only NaN is refused; a bad entry of a 2-D or larger array is named by its index and
    ``first_axis``, "(arm 0)"). Only real numbers are taken (bool, integer or float arrays): strings
    and complex numbers are refused, not converted or truncated. (The twin of
    ``solvers.milp.real_array``, kept apart: ``import rmab`` must work, with a warning, when a
    user's ``solvers`` module hides the MILP layer; docs/design.md.)"""
    try:
        raw = np.asarray(value)
        if raw.dtype.kind not in "biuf":
            raise TypeError(f"dtype {raw.dtype}")
        arr = np.array(raw, dtype=np.float64, copy=True, order="C")
    except (TypeError, ValueError) as exc:
        got = _short(value)
        if isinstance(value, np.ndarray):       # its repr ran over lines, and cut mid-row
            got = f"an array of dtype {value.dtype}, shape {value.shape}" + (
                f" (numbers as text? {field}.astype(float))" if value.dtype.kind in "US" else "")
        raise error(f"{owner}.{field}: must be an array of numbers; got {got}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise error(f"{owner}.{field}: must have {ndim} dimensions; got shape {arr.shape}")
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise error(f"{owner}.{field}: must be {'a number' if allow_inf else 'finite'}; got "
                    f"{arr[idx]} at index {idx}"
                    + (f" ({first_axis} {idx[0]})" if arr.ndim >= 2 else ""))
    return arr


def check_shape(owner: str, field: str, arr: np.ndarray, shape: tuple, names: tuple,
                error=InvalidModelError) -> None:
    if arr.shape != tuple(shape):
        expected = "(" + ", ".join(f"{n}={s}" for n, s in zip(names, shape)) + ")"
        raise error(f"{owner}.{field}: must have shape {expected}; got {arr.shape}")


def zero_rounding(arr: np.ndarray) -> np.ndarray:
    """``arr`` with its entries in ``[-PROB_TOL, 0)``, the rounding of e.g. ``1 - 0.9 - 0.1``,
    set to 0: a new array if it has any, else ``arr`` itself."""
    tiny = (arr < 0.0) & (arr >= -PROB_TOL)
    return np.where(tiny, 0.0, arr) if tiny.any() else arr


def check_stochastic(owner: str, field: str, arr: np.ndarray, *, row_desc: str,
                     error=InvalidModelError, tol: float = PROB_TOL) -> None:
    """Entries in [0, 1] and rows (last axis) summing to 1 within ``tol`` (``PROB_TOL`` for
    models; beliefs, data rounded where they were written, take ``BELIEF_TOL``). Entries in
    ``[-PROB_TOL, 0)``, the rounding of e.g. ``1 - 0.9 - 0.1``, are set to 0 in ``arr`` (the
    caller's own copy), as rows are taken with sums off by as much.

    ``row_desc`` names the leading axes, e.g. ``"arm {0}, action {1}, state {2}"``.
    """
    tiny = (arr < 0.0) & (arr >= -PROB_TOL)
    if tiny.any():
        arr[tiny] = 0.0
    neg = arr < 0.0
    if neg.any():
        idx = tuple(int(i) for i in np.argwhere(neg)[0])
        raise error(f"{owner}.{field}: must be non-negative; got {float(arr[idx])!r} at "
                    + row_desc.format(*idx[:-1]) + f", column {idx[-1]}")
    over = arr > 1.0 + PROB_TOL
    if over.any():
        idx = tuple(int(i) for i in np.argwhere(over)[0])
        percent = abs(float(arr[idx[:-1]].sum()) - 100.0) <= 0.5   # 33.33 * 3 too
        raise error(f"{owner}.{field}: must be at most 1; got {float(arr[idx])!r} at "
                    + row_desc.format(*idx[:-1]) + f", column {idx[-1]}"
                    + (" (percentages? the row sums to 100: divide by 100)" if percent else ""))
    sums = arr.sum(axis=-1)
    off = np.abs(sums - 1.0) > tol
    if off.any():
        idx = tuple(int(i) for i in np.argwhere(off)[0])
        raise error(f"{owner}.{field}: rows must sum to 1 (within {tol:g}); got "
                    f"{float(sums[idx]):.12g} at " + row_desc.format(*idx)
                    + (f" (the columns sum to 1: rows and columns swapped? np.swapaxes({field}, "
                       f"-1, -2))" if arr.ndim >= 2 and arr.shape[-1] == arr.shape[-2]
                       and np.all(np.abs(arr.sum(axis=-2) - 1.0) <= tol) else
                       " (all zero: every row needs a distribution, one with no data to "
                       "estimate it from too; rmab.estimate_probabilities fills such rows from "
                       "a prior)" if sums[idx] == 0.0 else
                       f" (rounded where it was written? {field} / {field}.sum(axis=-1, "
                       f"keepdims=True) makes every row sum to 1)"
                       if abs(sums[idx] - 1.0) <= 1e-3 else ""))


_INT_LIMIT = 2.0**62        # integer parameters beyond int64's range reach numpy and Numba


def check_flag(owner: str, field: str, value) -> bool:
    """``value`` as a bool; InvalidParameterError unless it is a bool (``"no"`` is not)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{owner}.{field}: must be True or False; got "
                                    f"{_short(value)}")
    return bool(value)


def check_arms(owner: str, arms, kind) -> None:
    """Refuse ``arms`` not of ``kind`` (a class or a tuple of them); an ``Instance`` is told to
    pass its arms, and its discount: a function of arms alone defaults it (0.95)."""
    if isinstance(arms, kind):
        return
    names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
    hint = (" (an Instance: pass instance.arms, and discount=instance.discount where the "
            "function takes one)" if hasattr(arms, "arms") and hasattr(arms, "budget") else "")
    raise InvalidParameterError(f"{owner}.arms: must be {names}; got {type(arms).__name__}"
                                f"{hint}")


def check_number(owner: str, field: str, value, *, low=None, high=None, low_open=False,
                 high_open=False, integer=False, error=InvalidParameterError):
    """Return ``value`` as float (or int) after checking it lies in the given interval."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        kind = "an integer" if integer else "a number"
        raise error(f"{owner}.{field}: must be {kind}; got {_short(value)}")
    try:
        as_float = float(value)
    except OverflowError:                     # an int beyond float64
        raise error(f"{owner}.{field}: must be finite; got {_short(value)}") from None
    if not np.isfinite(as_float):
        raise error(f"{owner}.{field}: must be finite; got {as_float}")
    exact = isinstance(value, (numbers.Integral, np.integer))      # 2**53 + 1 is no float
    if integer and (abs(int(value)) if exact else abs(as_float)) >= _INT_LIMIT:
        raise error(f"{owner}.{field}: must be below 2**62 in absolute value; got "
                    f"{_short(value)}")
    if integer:
        if not exact and as_float != int(value):
            raise error(f"{owner}.{field}: must be an integer; got {_short(value)}")
        value = int(value)
    else:
        value = float(value)
    if low is not None and (value < low or (low_open and value == low)):
        op = ">" if low_open else ">="
        raise error(f"{owner}.{field}: must be {op} {low}; got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        op = "<" if high_open else "<="
        raise error(f"{owner}.{field}: must be {op} {high}; got {value}")
    return value


def check_count_limits(owner: str, n_arms: int, n_actions: int, action_caps, min_active,
                       max_active, *, error=InvalidParameterError):
    """Validated count limits (see :class:`rmab.models.Instance`): ``action_caps`` as a
    read-only float array (n_actions,) of non-negative integers or ``inf`` with entry 0 ``inf``
    (or None), ``min_active`` in ``[0, n_arms]`` and ``max_active`` (None or ``>= min_active``)."""
    caps = action_caps
    if caps is not None:
        caps = as_float_array(owner, "action_caps", caps, ndim=1, allow_inf=True, error=error)
        check_shape(owner, "action_caps", caps, (n_actions,), ("n_actions",), error=error)
        if caps[0] != np.inf:
            raise error(f"{owner}.action_caps: entry 0 (passive) must be inf; got {caps[0]:g} "
                        f"(use min_active to limit the passive arms)")
        bad = np.flatnonzero(~((caps >= 0) & ((caps == np.round(caps)) | np.isinf(caps))))
        if bad.size:
            raise error(f"{owner}.action_caps: must be non-negative integers or inf; got "
                        f"{caps[bad[0]]:g} for action {bad[0]}")
        caps.setflags(write=False)
    low = check_number(owner, "min_active", min_active, low=0, integer=True, error=error)
    if low > n_arms:
        raise error(f"{owner}.min_active: must be <= n_arms ({n_arms}); got {low} (no more arms "
                    f"can act than there are)")
    high = max_active
    if high is not None:
        high = check_number(owner, "max_active", high, low=0, integer=True, error=error)
        if high < low:
            raise error(f"{owner}.max_active: must be >= min_active ({low}); got {high} (at "
                        f"least {low} arms must act each period but at most {high} may: lower "
                        f"min_active or raise max_active, or set both to k for exactly k)")
    return caps, low, high


def check_path(owner: str, value, field: str = "path", suffix: str | None = None) -> None:
    """Refuse (InvalidParameterError) a ``value`` that is not a path: a str or an
    :class:`os.PathLike` giving a str (bytes are refused, as :class:`pathlib.Path` does)
    without a NUL character (no file system takes one) or a line break (the text of a file,
    as ``DataFrame.to_csv()`` returns it, given for its path), ending in ``suffix`` (any case) if
    given: a file written in one format under another's name (``d.json`` holding an ``.npz``
    archive) misleads whoever opens it."""
    if isinstance(value, str) or (isinstance(value, os.PathLike)
                                  and isinstance(os.fspath(value), str)):
        text = os.fspath(value)
        if "\0" in text:
            raise InvalidParameterError(f"{owner}.{field}: must not contain a NUL character; "
                                        f"got {text!r}")
        if "\n" in text or "\r" in text:   # a file's text, e.g. DataFrame.to_csv()'s return
            lines = text.splitlines()
            raise InvalidParameterError(
                f"{owner}.{field}: must be a path, not a file's contents; got text of "
                f"{len(lines)} lines beginning {_short(lines[0] if lines else '')} (write it "
                f"to a file and pass the file's path)")
        if suffix is not None and not text.lower().endswith(suffix):
            raise InvalidParameterError(f"{owner}.{field}: must be a path ending in {suffix} "
                                        f"(the file is written in that format); got {text!r}")
        return
    raise InvalidParameterError(f"{owner}.{field}: must be a path (str or os.PathLike); got "
                                f"{type(value).__name__}")


def check_seed(owner: str, seed, *, sequence: bool = True):
    """``seed`` for :class:`numpy.random.SeedSequence`: a non-negative int of any size (as
    ``SeedSequence().entropy``), returned as int, or (``sequence``) a SeedSequence."""
    if sequence and isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        if seed < 0:
            raise InvalidParameterError(f"{owner}: must be a non-negative integer; got {seed}")
        return int(seed)
    raise InvalidParameterError(f"{owner}: must be a non-negative integer"
                                f"{' or a numpy SeedSequence' if sequence else ''}; got "
                                f"{_short(seed)}" + seed_hint(seed))


def seed_hint(seed) -> str:
    """The hint for a seed refused that is a whole float (``1.0``, ``np.float64(1)``), else
    ``""``."""
    if isinstance(seed, (float, np.floating)) and float(seed).is_integer() and seed >= 0:
        return f" (seeds are integers: pass {int(seed)})"
    return ""


def as_generator(seed, owner: str = "seed") -> np.random.Generator:
    """``seed`` as a :class:`numpy.random.Generator` (int, SeedSequence, Generator or None)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, (bool, np.bool_)):
        raise InvalidParameterError(f"{owner}: must be an integer or Generator; got {seed}")
    if isinstance(seed, (numbers.Integral, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(check_seed(owner, seed))
    raise InvalidParameterError(
        f"{owner}: must be an integer, numpy SeedSequence or Generator; got {_short(seed)}"
        + seed_hint(seed))


def check_costs(owner: str, costs: np.ndarray, error=InvalidModelError) -> None:
    """Costs (n_arms, n_actions): every entry ``>= 0`` and the passive action 0 free."""
    neg = np.argwhere(costs < 0)
    if len(neg):
        n, a = (int(i) for i in neg[0])
        raise error(f"{owner}.costs: must be >= 0; got {float(costs[n, a])} for action {a} "
                    f"(arm {n})")
    nonzero = np.flatnonzero(costs[:, 0] != 0)
    if len(nonzero):
        n = int(nonzero[0])
        raise error(f"{owner}.costs: passive action 0 must cost 0; got {float(costs[n, 0])} "
                    f"(arm {n})")


def as_array(owner: str, field: str, value, shape: str) -> np.ndarray:
    """``np.asarray(value)``; ragged rows, numpy's ValueError, are an InvalidParameterError
    saying ``must have shape {shape}``."""
    try:
        return np.asarray(value)
    except ValueError as exc:
        raise InvalidParameterError(f"{owner}.{field}: must have shape {shape}; got rows of "
                                    f"different lengths") from exc


def check_actions(owner: str, actions, n_arms: int, n_actions: int, field: str = "actions",
                  *, noun: str = "arm", none: str | None = None) -> np.ndarray:
    """Actions as a C-contiguous int64 array (n_arms,) with entries in [0, n_actions) (or -1
    where ``none`` says what it means, e.g. "no signal"); an entry is named by its ``noun`` and
    position ("arm 3"; "record 3" for logs)."""
    length = f"(n_{noun}s={n_arms},)"
    a = as_array(owner, field, actions, length)
    if a.shape != (n_arms,):
        raise InvalidParameterError(f"{owner}.{field}: must have shape {length}; got {a.shape}"
                                    + (f" (one-hot rows? {field}.argmax(axis=1))"
                                       if a.shape == (n_arms, n_actions) else ""))
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not np.issubdtype(a.dtype, np.floating):
            raise InvalidParameterError(f"{owner}.{field}: must be integers; got dtype {a.dtype}"
                                        + (f" (a mask of the {noun}s acting? {field}.astype(int)"
                                           f" gives them action 1)"
                                           if a.dtype == bool and field == "actions" else ""))
        off = a != np.round(a)                          # NaN too
        if off.any():
            n = int(np.flatnonzero(off)[0])
            raise InvalidParameterError(f"{owner}.{field}: must be integers; got {a[n]} "
                                        f"({noun} {n})")
    bad = (a < (0 if none is None else -1)) | (a >= n_actions)    # before the cast, which
    if bad.any():                                                  # would wrap inf, 2**64 - 1
        n = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(f"{owner}.{field}: must lie in [0, {n_actions})"
                                    f"{'' if none is None else f' or be -1 ({none})'}; got "
                                    f"{a[n]} ({noun} {n})")
    return np.ascontiguousarray(a, dtype=np.int64)


def _check_keys(value) -> None:
    """TypeError if a dict inside ``value`` has a key that is not a string."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"keys must be strings; got {key!r}")
            _check_keys(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_keys(item)


def json_text(owner: str, name: str, value) -> str:
    """``value`` as strict JSON (string keys: json.dumps turns 1 into "1", a silent clash;
    finite numbers), else :class:`InvalidModelError` naming ``owner.name``."""
    try:
        _check_keys(value)
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidModelError(f"{owner}.{name}: must be JSON-serialisable (string keys, "
                                f"finite numbers); {exc}") from exc
