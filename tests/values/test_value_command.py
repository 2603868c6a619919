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


def test_errors(tmp_path):
    with pytest.raises(RmabError, match="must be an existing file"):
        run([str(tmp_path / "none.pomdp")])
    bad = tmp_path / "bad.pomdp"
    bad.write_text("discount: 0.9\nstates: 2\nactions: 2\nobservations: 2\nT: 5 identity\n")
    with pytest.raises(POMDPFormatError, match="line 5"):
        run([str(bad)])
    undiscounted = tmp_path / "one.pomdp"
    undiscounted.write_text(TIGER.read_text().replace("discount: 0.95", "discount: 1.0"))
    with pytest.raises(InvalidParameterError, match=r"value\.discount: must be < 1"):
        run([str(undiscounted)])
    with pytest.raises(InvalidParameterError, match=r"solve_pbvi\.tol: must be > 0"):
        run([str(TIGER), "--tol", "0"])
