"""Statistics and charts shared by the comparison results (private).

``mean_ci`` is the one confidence-interval rule of the toolkit (``PairedDifferenceResult`` the
one paired comparison it reports); ``save_bar_chart`` the one bar
chart; ``new_figure``/``save_figure`` every figure's canvas (matplotlib's Agg, no global
backend change) and atomic write; ``plot_format`` the one rule for a plot's file name;
``count_noun`` the one way a count is written in a message ("1 arm", "2 arms").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rmab.errors import InvalidModelError, InvalidParameterError, MissingDependencyError
from rmab.models.storage import atomic_write

__all__ = ["mean_ci", "PairedDifferenceResult", "paired_table", "save_bar_chart", "plot_format",
           "PLOT_FORMATS", "saved_array", "saved_names", "new_figure", "save_figure",
           "count_noun"]

PLOT_FORMATS = ("png", "pdf", "svg")


def count_noun(n: int, one: str, many: str | None = None) -> str:
    """``n`` and the noun, singular for 1: ``count_noun(1, "batch", "batches")`` is "1 batch",
    ``count_noun(2, "arm")`` "2 arms"."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def plot_format(owner: str, path) -> str:
    """The image format named by ``path``'s suffix (one of ``PLOT_FORMATS``); anything else
    is refused, so that no file gets bytes its name does not promise."""
    fmt = Path(str(path)).suffix.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise InvalidParameterError(f"{owner}: must be a path ending in "
                                    f"{', '.join('.' + f for f in PLOT_FORMATS)}; got "
                                    f"{str(path)!r}")
    return fmt


def mean_ci(x: np.ndarray, confidence: float) -> tuple[float, float, float, float]:
    """Mean, standard error and the two-sided Student-t confidence interval of ``x`` (k,), or
    of ``x`` (n_strata, k) with its rows as strata (instances): the mean of their means, its
    standard error from the within-row variances (``sqrt(Σ v_i) / n_strata``, ``v_i = var_i /
    k``) and the Welch-Satterthwaite degrees of freedom ``(Σ v_i)² / Σ (v_i² / (k - 1))``
    (``n_strata (k - 1)`` when the variances are equal; fewer, and a wider interval, when one
    stratum's dominates). With one value per row the standard error and interval are NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    rows = x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x[None, :]
    n, k = rows.shape
    mean = float(rows.mean())
    if k < 2:
        return mean, math.nan, math.nan, math.nan
    from scipy.special import stdtrit     # the t quantile; scipy.stats took 0.4 s to import

    v = rows.var(axis=1, ddof=1) / k
    total = float(v.sum())
    se = math.sqrt(total) / n
    if total == 0.0:                    # every stratum constant: an interval of width 0
        return mean, se, mean, mean
    w = v / v.max()                     # scale-free: squares of 1e80 overflowed, of 1e-160 gave 0
    df = float(w.sum()) ** 2 / float((w ** 2).sum() / (k - 1))
    half = float(stdtrit(df, 0.5 + confidence / 2)) * se
    return mean, se, mean - half, mean + half


@dataclass(frozen=True, eq=False)
class PairedDifferenceResult:
    """``first - second``: mean over episodes of the paired difference of their scores
    (discounted returns in :func:`rmab.compare`, per-step rewards in a domain comparison), its
    standard error and Student-t confidence interval (:func:`mean_ci`)."""

    first: str
    second: str
    mean: float
    stderr: float
    ci_low: float
    ci_high: float
    episodes: int
    confidence: float


def paired_table(diffs, reference: str, digits: int, unit: str) -> str:
    """An aligned text table of paired differences ``first - reference`` (one
    :class:`PairedDifferenceResult` per other planner) with a verdict per row: ``higher`` or
    ``lower`` when the confidence interval excludes 0, ``equal`` when every difference is 0,
    ``not resolved`` otherwise; a last line says what was differenced (``unit``). Decimals:
    ``digits``, or more where a difference or its standard error needs them for three
    significant digits."""
    small = [abs(x) for r in diffs for x in (r.mean, r.stderr) if math.isfinite(x) and x != 0]
    d = max(digits, min(12, 2 - math.floor(math.log10(min(small))))) if small else digits
    pct = f"{diffs[0].confidence:.0%}" if diffs else "95%"
    head = ["planner", f"minus {reference}", "std err", f"{pct} CI", "verdict"]
    rows = [[r.first, f"{r.mean:+.{d}f}", f"{r.stderr:.{d}f}",
             f"[{r.ci_low:+.{d}f}, {r.ci_high:+.{d}f}]",
             "higher" if r.ci_low > 0 else "lower" if r.ci_high < 0 else
             "equal" if r.mean == 0 and not r.stderr > 0 else "not resolved"]   # nan: 1 pair
            for r in diffs]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i in (0, 4) else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in [head] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"paired difference of {unit} against {reference!r} over the same episodes "
                 f"(common random numbers); {pct} CI from the t distribution; verdict: the CI "
                 f"lies above 0 (higher), below 0 (lower) or holds 0 (not resolved); equal: "
                 f"the same in every episode")
    return "\n".join(lines)


def saved_array(owner: str, arrays: dict, name: str, shape: tuple, integer: bool = False,
                nonnegative: bool = False) -> np.ndarray:
    """``arrays[name]`` of a saved comparison as a read-only float64 (``integer``: int64)
    array, checked to hold finite (``nonnegative``: and >= 0) numbers of ``shape``;
    InvalidModelError otherwise."""
    if name not in arrays:
        raise InvalidModelError(f"{owner}: missing array {name!r}")
    a = arrays[name]
    kinds = "iu" if integer else "biuf"
    if a.dtype.kind not in kinds or a.shape != shape or (
            a.dtype.kind == "f" and not np.isfinite(a).all()) or (nonnegative and (a < 0).any()):
        what = ("non-negative " if nonnegative else "") + ("integers" if integer else "numbers")
        raise InvalidModelError(f"{owner}: {name} must hold finite {what} of shape {shape}; "
                                f"got {a.dtype} of shape {a.shape}")
    a = a.astype(np.int64 if integer else np.float64)
    a.setflags(write=False)
    return a


def saved_names(owner: str, meta: dict) -> tuple:
    """``meta["planners"]`` of a saved comparison: distinct, non-empty strings."""
    names = meta.get("planners")
    if (not isinstance(names, list) or not names
            or not all(isinstance(n, str) and n for n in names) or len(set(names)) < len(names)):
        raise InvalidModelError(f"{owner}: planners must be a list of distinct planner names; "
                                f"got {str(names)[:80]}")
    return tuple(names)


def save_bar_chart(path, labels, means, err, *, ylabel: str, title: str, owner: str,
                   reference_line: float | None = None, bound_line: float | None = None
                   ) -> None:
    """One bar per label with asymmetric error bars ``err`` (2, n; NaN drawn as 0), saved to
    ``path`` in the format its suffix names (:func:`plot_format`); ``reference_line`` draws a
    dashed horizontal line (e.g. RANDOM = 1), ``bound_line`` a dotted one labelled as an upper
    bound on any policy."""
    fmt = plot_format(owner, path)
    means = np.asarray(means, dtype=float)
    fig = new_figure(owner, (max(4.0, 1.5 + 0.9 * means.size), 4.0))
    ax = fig.add_subplot()
    x = np.arange(means.size)
    ax.bar(x, means, yerr=np.nan_to_num(err), capsize=4, color="tab:blue", alpha=0.8)
    if reference_line is not None:
        ax.axhline(reference_line, color="grey", linestyle="--", linewidth=1)
    if bound_line is not None:
        ax.axhline(bound_line, color="tab:red", linestyle=":", linewidth=1.5,
                   label="upper bound on any policy's expected reward (LP)")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xticks(x, list(labels), rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    save_figure(fig, path, fmt)


def new_figure(owner: str, size: tuple):
    """A matplotlib ``Figure`` of ``size`` inches on its own Agg canvas: pyplot and the
    global backend are left alone."""
    try:
        import matplotlib  # noqa: F401  (first: a missing package fails here, not midway)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependencyError(f"{owner}: needs matplotlib: pip install 'rmab[plot]'"
                                     ) from exc
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path, fmt: str) -> None:
    """Lay ``fig`` out and write it to ``path`` in format ``fmt`` (:func:`plot_format`),
    atomically."""
    fig.tight_layout()
    with atomic_write(path, "." + fmt) as tmp:
        fig.savefig(tmp, format=fmt)
