"""``rmab value``: the interval printed for Tiger lies inside SARSOP's; errors raise RmabError."""

import argparse
import re
from pathlib import Path

import pytest

from rmab.commands import value
from rmab.errors import InvalidParameterError, RmabError
from rmab.models.pomdp_format import POMDPFormatError

TIGER = Path(__file__).resolve().parents[2] / "data" / "tiger.pomdp"


def run(argv):
    parser = argparse.ArgumentParser()
    value.add_arguments(parser)
    return value.run(parser.parse_args(argv))


def test_tiger_interval(capsys):
    """At --tol 1e-5 the printed interval lies inside SARSOP's 19.3711 <= V <= 19.3721 (spec,
    "Reference values")."""
    assert run([str(TIGER), "--tol", "1e-5"]) == 0
    out = capsys.readouterr().out
    lo, hi = map(float, re.search(r"\[([-\d.]+), ([-\d.]+)\]", out).groups())
    assert 19.3711 <= lo <= hi <= 19.3721
    assert "first action: listen" in out and " s\n" in out


@pytest.mark.parametrize("horizon, cost", [([], 0.5 / (1 - 0.9)),
                                           (["--horizon", "3"], 0.5 * (1 + 0.9 + 0.81))])
def test_a_cost_file_prints_its_cost(tmp_path, capsys, horizon, cost):
    """'values: cost' files are read as negated rewards; the interval was printed as the
    rewards', -5 for a least cost of 5, without a word (a CLI review). The least cost here:
    action 1 at 0.5 per period, closed form."""
    path = tmp_path / "c.pomdp"
    path.write_text("discount: 0.9\nvalues: cost\nstates: 2\nactions: 2\nobservations: 2\n"
                    "T: 0 identity\nT: 1 uniform\nO: * uniform\nR: 0 : 0 : * : * 1\n"
                    "R: 0 : 1 : * : * 2\nR: 1 : * : * : * 0.5\n")
    assert run([str(path), *horizon]) == 0
    out = capsys.readouterr().out
    lo, hi = map(float, re.search(r"cost at the start belief: \[([-\d.]+), ([-\d.]+)\]",
                                  out).groups())
    assert lo == pytest.approx(cost, abs=1e-5) and hi == pytest.approx(cost, abs=1e-5)
    assert "value at the start" not in out and "first action: 1" in out
    # PBVI bounds the reward below, so the cost above (the lines had said "lower: PBVI")
    assert "\ncost upper: " in out and "\ncost lower: " in out and "\nlower:" not in out


def test_errors(tmp_path):
    with pytest.raises(RmabError, match="must be an existing file"):
        run([str(tmp_path / "none.pomdp")])
    bad = tmp_path / "bad.pomdp"
    bad.write_text("discount: 0.9\nstates: 2\nactions: 2\nobservations: 2\nT: 5 identity\n")
    with pytest.raises(POMDPFormatError, match="line 5"):
        run([str(bad)])
    undiscounted = tmp_path / "one.pomdp"
    undiscounted.write_text(TIGER.read_text().replace("discount: 0.95", "discount: 1.0"))
    with pytest.raises(InvalidParameterError, match=r"value\.discount: must be < 1 for PBVI "
                                                    r"\(or give --horizon\)"):
        run([str(undiscounted)])
    with pytest.raises(InvalidParameterError, match=r"^value\.horizon: must be >= 1 "
                                                    r"\(--horizon\); got 0$"):
        run([str(undiscounted), "--horizon", "0"])      # named solve_finite_pbvi.horizon
    with pytest.raises(InvalidParameterError, match=r"^value\.n_beliefs: must be >= 1 "
                                                    r"\(--n-beliefs\); got 0$"):
        run([str(TIGER), "--n-beliefs", "0"])            # named solve_pbvi.n_beliefs
    with pytest.raises(InvalidParameterError, match=r"value\.randomized: only without --horizon"):
        run([str(TIGER), "--horizon", "3", "--randomized"])
    with pytest.raises(InvalidParameterError, match=r"value\.tol: must be > 0 \(--tol\)"):
        run([str(TIGER), "--tol", "0"])
    with pytest.raises(InvalidParameterError, match=r"value\.tol: must be > 0"):
        run([str(TIGER), "--tol", "-1", "--horizon", "3"])
    with pytest.raises(InvalidParameterError, match=r"value\.upper_sweeps: must be >= 0 "
                                                    r"\(--upper-sweeps\); got -1"):
        run([str(tmp_path / "none.pomdp"), "--upper-sweeps", "-1"])     # before reading


def test_finite_horizon_interval(tmp_path, capsys):
    """Tiger over 8 periods, undiscounted: the interval closes on the enumeration's value."""
    import numpy as np
    from test_pbvi import exact_finite_value

    from rmab.models.pomdp_format import read_pomdp

    undiscounted = tmp_path / "one.pomdp"
    undiscounted.write_text(TIGER.read_text().replace("discount: 0.95", "discount: 1.0"))
    assert run([str(undiscounted), "--horizon", "8"]) == 0
    out = capsys.readouterr().out
    lo, hi = map(float, re.search(r"\[([-\d.]+), ([-\d.]+)\]", out).groups())
    arms = read_pomdp(undiscounted).arms
    want = exact_finite_value(arms.transitions[0], arms.observations[0], arms.rewards[0], 1.0,
                              np.array([0.5, 0.5]), 8)
    assert lo == pytest.approx(want, abs=1e-6) and hi == pytest.approx(want, abs=1e-6)
    assert "horizon 8" in out and "finite-horizon PBVI" in out and "first action: listen" in out


def test_a_cost_files_interval_is_the_negated_value_interval_in_order(tmp_path, capsys):
    """Tiger written as costs (every reward negated, 'values: cost'): its least cost is minus
    Tiger's value, in [-19.3721, -19.3711] by SARSOP's bounds; a coarse run's interval [lo, hi]
    must hold it with lo < hi and its printed gap hi - lo (the bounds' order was untested, the
    existing cost file's bounds meet)."""
    text = TIGER.read_text().replace("values: reward", "values: cost")
    text = re.sub(r"^(R:.* )(-?[\d.]+)$", lambda m: m.group(1) + repr(-float(m.group(2))),
                  text, flags=re.M)
    assert "R: listen : * : * : * 1.0" in text
    path = tmp_path / "tiger-cost.pomdp"
    path.write_text(text)
    assert run([str(path), "--n-beliefs", "4", "--upper-sweeps", "0"]) == 0
    found = re.search(r"cost at the start belief: \[([-\d.]+), ([-\d.]+)\]  \(gap ([\d.]+)\)",
                      capsys.readouterr().out)
    lo, hi, gap = map(float, found.groups())
    assert lo <= -19.3721 and -19.3711 <= hi and lo < hi
    assert gap == pytest.approx(hi - lo, rel=1e-2)
