"""Statistics and charts shared by the comparison results (private).

``mean_ci`` is the one confidence-interval rule of the toolkit (``PairedDifferenceResult`` the
one paired comparison it reports); ``save_bar_chart`` the one bar
chart (matplotlib's Agg canvas, no global backend change, written atomically); ``plot_format``
the one rule for a plot's file name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rmab.errors import InvalidParameterError, MissingDependencyError
from rmab.models.storage import atomic_write

__all__ = ["mean_ci", "PairedDifferenceResult", "save_bar_chart", "plot_format", "PLOT_FORMATS"]

PLOT_FORMATS = ("png", "pdf", "svg")


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
    standard error from the within-row variances (``sqrt(Σ var_i / k) / n_strata``, with
    ``n_strata (k - 1)`` degrees of freedom). With one value per row the standard error and
    interval are NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    rows = x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x[None, :]
    n, k = rows.shape
    mean = float(rows.mean())
    if k < 2:
        return mean, math.nan, math.nan, math.nan
    from scipy.special import stdtrit     # the t quantile; scipy.stats took 0.4 s to import

    se = math.sqrt(float((rows.var(axis=1, ddof=1) / k).sum())) / n
    half = float(stdtrit(n * (k - 1), 0.5 + confidence / 2)) * se
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


def save_bar_chart(path, labels, means, err, *, ylabel: str, title: str, owner: str,
                   reference_line: float | None = None, bound_line: float | None = None
                   ) -> None:
    """One bar per label with asymmetric error bars ``err`` (2, n; NaN drawn as 0), saved to
    ``path`` in the format its suffix names (:func:`plot_format`); ``reference_line`` draws a
    dashed horizontal line (e.g. RANDOM = 1), ``bound_line`` a dotted one labelled as an upper
    bound on any policy."""
    fmt = plot_format(owner, path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependencyError(f"{owner}: needs matplotlib: pip install 'rmab[plot]'"
                                     ) from exc
    means = np.asarray(means, dtype=float)
    fig = Figure(figsize=(max(4.0, 1.5 + 0.9 * means.size), 4.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(means.size)
    ax.bar(x, means, yerr=np.nan_to_num(err), capsize=4, color="tab:blue", alpha=0.8)
    if reference_line is not None:
        ax.axhline(reference_line, color="grey", linestyle="--", linewidth=1)
    if bound_line is not None:
        ax.axhline(bound_line, color="tab:red", linestyle=":", linewidth=1.5,
                   label="upper bound on any policy (LP)")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xticks(x, list(labels), rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_write(path, "." + fmt) as tmp:
        fig.savefig(tmp, format=fmt)
