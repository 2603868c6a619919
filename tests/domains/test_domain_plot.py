"""DomainComparisonResult.plot: a PNG written atomically, error bars, missing matplotlib."""

import sys

import numpy as np
import pytest

from rmab.domains import make_capacity
from rmab.domains.evaluate import DomainComparisonResult, compare_domain, evaluate_domain
from rmab.errors import MissingDependencyError

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def one_seed():
    return evaluate_domain(make_capacity(6, 2, seed=0), ["no-action", "random", "sampling"],
                           episodes=4, horizon=3, seed=0)


def test_one_seed_plot(one_seed, tmp_path):
    path = tmp_path / "sub" / "d.png"
    one_seed.plot(path)
    assert path.read_bytes()[:8] == PNG
    assert [p.name for p in path.parent.iterdir()] == ["d.png"]   # no temporary file left


@pytest.fixture
def bars(monkeypatch):
    """The heights and error bars passed to ``Axes.bar`` by the next plot."""
    from matplotlib.axes import Axes

    seen, original = {}, Axes.bar

    def spy(self, x, height, yerr=None, **kw):
        seen.update(height=np.asarray(height), yerr=np.asarray(yerr))
        return original(self, x, height, yerr=yerr, **kw)

    monkeypatch.setattr(Axes, "bar", spy)
    return seen


def test_several_seeds_plot_std_over_seeds(tmp_path, bars):
    res = compare_domain("capacity", n_arms=5, budget=2, seeds=(0, 1), episodes=2, horizon=2,
                         planners=("no-action", "random"))
    res.plot(tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes()[:8] == PNG
    np.testing.assert_allclose(bars["height"], res.mean_normalised)
    np.testing.assert_allclose(bars["yerr"], np.tile(res.std_normalised, (2, 1)))
    assert bars["yerr"][0, 1] == 0.0 and bars["yerr"][0, 0] > 0   # RANDOM == 1 on every seed


def test_one_seed_error_bars_are_episode_intervals(one_seed, tmp_path, bars):
    from scipy import stats

    one_seed.plot(tmp_path / "o.png")
    r = one_seed.rewards[0] / one_seed.rewards[0, 1].mean()   # per-episode normalised
    half = stats.t.ppf(0.975, 3) * r.std(axis=1, ddof=1) / 2.0   # 4 episodes
    np.testing.assert_allclose(bars["height"], r.mean(axis=1))
    np.testing.assert_allclose(bars["yerr"], np.tile(half, (2, 1)), atol=1e-12)


def test_single_episode_has_no_error_bars(tmp_path):
    res = DomainComparisonResult("capacity", ("random", "x"), (0,), np.array([[[2.0], [3.0]]]),
                                 np.array([[1.0, 1.5]]), np.zeros((1, 2)), 3, 1)
    res.plot(tmp_path / "one.png")
    assert (tmp_path / "one.png").read_bytes()[:8] == PNG


def test_plot_without_matplotlib(one_seed, tmp_path, monkeypatch):
    for mod in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(MissingDependencyError,
                       match=r"DomainComparisonResult.plot: needs matplotlib: "
                             r"pip install 'rmab\[plot\]'"):
        one_seed.plot(tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plot_draws_the_bound_line(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    lines, original = [], Axes.axhline

    def spy(self, y=0, *args, **kw):
        lines.append((y, kw.get("linestyle")))
        return original(self, y, *args, **kw)

    monkeypatch.setattr(Axes, "axhline", spy)
    res = compare_domain("capacity", n_arms=5, budget=2, seeds=(0, 1), episodes=2, horizon=2,
                         planners=("no-action", "random"), bound=True)
    res.plot(tmp_path / "b.png")
    assert (tmp_path / "b.png").read_bytes()[:8] == PNG
    assert lines == [(1.0, "--"), (pytest.approx(res.normalised_bound.mean()), ":")]
    # a bound on the expected reward: two sampled episodes of RANDOM may still exceed it
    random_mean = res.rewards[:, res.planners.index("random")].mean(axis=1)
    np.testing.assert_allclose(res.normalised_bound, res.bound.mean(axis=1) / random_mean)
