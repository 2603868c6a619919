"""Model semantics pinned against independent references (numpy's indexing, the format
definitions): tests added by a hand-made mutation review; each names the mutant it kills."""

import itertools

import numpy as np
import pytest

from rmab.errors import POMDPFormatError
from rmab.models import Instance, load_instance, random_mdp_arms, random_pomdp_arms, save_instance
from rmab.models.pomdp_format import parse_pomdp


@pytest.mark.parametrize("make", [lambda: random_mdp_arms(4, 2, 2, seed=1),
                                  lambda: random_pomdp_arms(4, 3, 2, 2, seed=2)])
def test_select_takes_every_index_numpy_takes(make):
    # numpy takes -n .. n-1 on an axis of length n; -n is the first arm (kills `< -n_arms`
    # -> `<= -n_arms` in _as_index, which refused it)
    arms = make()
    n = arms.n_arms
    for i in range(-n, n):
        part = arms.select([i])
        np.testing.assert_array_equal(part.transitions, arms.transitions[[i]])
        np.testing.assert_array_equal(part.rewards, arms.rewards[[i]])
        np.testing.assert_array_equal(part.costs, arms.costs[[i]])
    np.testing.assert_array_equal(arms.select([-n, n - 1]).rewards, arms.rewards[[0, -1]])


def test_saved_count_limits_read_back(tmp_path):
    # every joint action of 4 two-action arms: the loaded instance admits exactly the ones the
    # saved one does (kills load_instance reading max_active as None: a file would lose it)
    arms = random_mdp_arms(4, 2, 2, seed=3)
    inst = Instance(arms, 3.0, discount=0.9, min_active=1, max_active=2)
    back = load_instance(save_instance(inst, tmp_path / "limits.npz"))
    assert (back.min_active, back.max_active) == (1, 2)
    for joint in itertools.product(range(2), repeat=4):
        joint = np.array(joint)
        active = int(joint.sum())
        assert (back.violation(joint) is None) == (1 <= active <= 2)
        assert (back.violation(joint) is None) == (inst.violation(joint) is None)


@pytest.mark.parametrize("discount, horizon", [(0.9, 7), (1.0, 5), (0.95, None)])
def test_saved_horizon_reads_back(tmp_path, discount, horizon):
    # a finite horizon with discount < 1 is a field of its own: Instance.episode_length is
    # the horizon when set, else the smallest T with discount**T <= 1e-2 (kills load_instance
    # dropping the horizon when discount < 1)
    inst = Instance(random_pomdp_arms(2, 2, 2, 2, seed=4), 1.0, discount=discount,
                    horizon=horizon)
    back = load_instance(save_instance(inst, tmp_path / "h.npz"))
    assert back.horizon == horizon and back.discount == discount
    want = horizon if horizon is not None else next(
        t for t in itertools.count(1) if discount ** t <= 1e-2)
    assert back.episode_length == want


def _pomdp_text(t_row, o_row):
    return ("discount: 0.9\nvalues: reward\nstates: 2\nactions: 1\nobservations: 2\n"
            f"T: 0\n{t_row}\n0.0 1.0\nO: 0\n{o_row}\n0.5 0.5\nR: 0 : * : * : * 1.0\n")


@pytest.mark.parametrize("which", ["T", "O"])
def test_pomdp_rows_must_sum_to_one_within_1e_5(which):
    # the module's definition: rows of T and O sum to 1 within 1e-5, and are renormalised
    # (kills _ROW_TOL 1e-5 -> 1e-4: rows off by 5e-5 would be taken)
    ok, near, far = "0.25 0.75", "0.25 0.750005", "0.25 0.75005"
    for row, fine in ((near, True), (far, False)):
        text = _pomdp_text(row, ok) if which == "T" else _pomdp_text(ok, row)
        if not fine:
            with pytest.raises(POMDPFormatError, match="must sum to 1"):
                parse_pomdp(text)
            continue
        arms = parse_pomdp(text).arms
        got = (arms.transitions if which == "T" else arms.observations)[0, 0, 0]
        np.testing.assert_allclose(got, np.array([0.25, 0.750005]) / 1.000005, rtol=1e-12)
