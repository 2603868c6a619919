"""Arguments of the wrong type or value are typed RmabErrors naming ``owner.field``, never a
bare TypeError, ValueError or AttributeError from Python or numpy."""

import re
from pathlib import Path

import numpy as np
import pytest

from rmab.cli import main
from rmab.domains import (load_domain, make_domain, read_edge_list, save_domain,
                          write_edge_list)
from rmab.errors import InvalidModelError, InvalidParameterError
from rmab.io import batch_seed, read_batches, read_batches_keep_going, solve_batches
from rmab.io import write_solutions
from rmab.models import (budget_from_fraction, health_intervention, load_instance,
                         random_instance, random_mdp_arms, save_instance)
from rmab.models.arms import concat_arms
from rmab.models.pomdp_format import read_pomdp, write_pomdp

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLE = DATA / "batch_example.csv"


def test_health_noise_minus_zero_is_zero(tmp_path):
    same = health_intervention(6, noise=0.0, seed=0).arms.transitions
    assert np.array_equal(health_intervention(6, noise=-0.0, seed=0).arms.transitions, same)
    assert main(["generate", "health", "--arms", "6", "--noise", "-0", "-o",
                 str(tmp_path / "g.npz")]) == 0


@pytest.mark.parametrize("fraction, n_arms, message", [
    (float("nan"), 10, "budget_from_fraction.fraction: must be finite; got nan"),
    (-1, 10, "budget_from_fraction.fraction: must be >= 0.0; got -1.0"),
    ("0.2", 10, "budget_from_fraction.fraction: must be a number; got '0.2'"),
    (None, 10, "budget_from_fraction.fraction: must be a number; got None"),
    (0.2, 0, "budget_from_fraction.n_arms: must be >= 1; got 0"),
    (0.2, -5, "budget_from_fraction.n_arms: must be >= 1; got -5"),
    (0.2, 2.5, "budget_from_fraction.n_arms: must be an integer; got 2.5"),
])
def test_budget_from_fraction_checks_its_arguments(fraction, n_arms, message):
    with pytest.raises(InvalidParameterError, match=message.replace(".", r"\.")):
        budget_from_fraction(fraction, n_arms)


def test_budget_from_fraction_takes_fractions_above_one():
    assert budget_from_fraction(2.5, 10) == 25.0          # as 'rmab generate random' does


@pytest.mark.parametrize("stacks, got", [
    ("ab", "got str"), ([1, 2], "got int"), (None, "got NoneType"), (3, "got int"),
])
def test_concat_arms_refuses_non_arms(stacks, got):
    with pytest.raises(InvalidModelError, match=r"concat_arms\.stacks: .*MDPArms or POMDPArms"
                                                 rf".*; {got}$"):
        concat_arms(stacks)


def test_concat_arms_still_joins_arms():
    a, b = random_mdp_arms(2, 3, seed=0), random_mdp_arms(3, 3, seed=1)
    assert concat_arms([a, b]).n_arms == 5


def test_make_domain_refuses_unknown_keywords():
    with pytest.raises(InvalidParameterError,
                       match=r"make_domain\('capacity'\)\.nope: not a parameter of this "
                             r"domain; it takes n_arms, budget, seed$"):
        make_domain("capacity", nope=1)
    with pytest.raises(InvalidParameterError, match=r"it takes n_arms, n_interventions, "):
        make_domain("interventions", n_slots=3)


@pytest.mark.parametrize("seed, message", [
    (-1, "batch_seed.seed: must be a non-negative integer; got -1"),
    (1.5, "batch_seed.seed: must be a non-negative integer or a numpy SeedSequence; got 1.5"),
    (True, "batch_seed.seed: must be a non-negative integer or a numpy SeedSequence; got True"),
    (None, "batch_seed.seed: must be a non-negative integer or a numpy SeedSequence; got None"),
    (3.0, "batch_seed.seed: must be a non-negative integer or a numpy SeedSequence; got 3.0 "
          "(seeds are integers: pass 3)"),
])
def test_batch_seed_checks_the_seed(seed, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message) + "$"):
        batch_seed(seed, "b")


def test_batch_seed_keeps_valid_seeds():
    state = batch_seed(np.random.SeedSequence(7), "x").generate_state(2).tolist()
    assert batch_seed(7, "x").generate_state(2).tolist() == state
    assert batch_seed(np.int64(7), "x").generate_state(2).tolist() == state
    big = np.random.SeedSequence(3).entropy              # 128 bits: refused by a review's fix
    assert batch_seed(big, "x").entropy == big
    assert batch_seed(2**53 + 1, "x").entropy == 2**53 + 1


def test_batch_seed_of_a_spawned_seed_sequence_extends_its_spawn_key():
    """A spawned child's batch seeds are its own (two children give two streams): the spawn
    key is the child's, extended by the first 8 bytes of the id's SHA-256 (hashlib)."""
    import hashlib

    children = np.random.SeedSequence(7).spawn(2)
    key = int.from_bytes(hashlib.sha256("x".encode("utf-8")).digest()[:8], "big")
    for child in children:
        seed = batch_seed(child, "x")
        assert seed.entropy == 7 and seed.spawn_key == (*child.spawn_key, key)
        want = np.random.SeedSequence(7, spawn_key=(*child.spawn_key, key))
        assert seed.generate_state(2).tolist() == want.generate_state(2).tolist()
    first, second = (batch_seed(c, "x").generate_state(2).tolist() for c in children)
    assert first != second
    key = int.from_bytes(hashlib.sha256("clínica".encode("utf-8")).digest()[:8], "big")
    assert (batch_seed(7, "clínica").entropy, batch_seed(7, "clínica").spawn_key) == (7, (key,))


def test_large_integer_seeds_and_numpy_bools_are_taken(tmp_path):
    out = tmp_path / "s.csv"
    res = solve_batches(EXAMPLE, seed=2**100, keep_going=np.True_, out=out)
    assert res.ok and out.exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"planner_params": "x"}, "planner_params: must be a mapping of parameter names to "
                              "values; got str"),
    ({"planner_params": [1]}, "planner_params: must be a mapping of parameter names to "
                              "values; got list"),
    ({"planner_params": {1: 2}}, "planner_params: keys must be parameter names (str); got 1"),
    ({"keep_going": "no"}, "keep_going: must be True or False; got 'no'"),
    ({"progress": "yes"}, "progress: must be True or False; got 'yes'"),
    ({"out": 3}, "out: must be a path (str or os.PathLike); got int"),
])
def test_solve_batches_checks_argument_types(kwargs, message):
    with pytest.raises(InvalidParameterError) as info:
        solve_batches(EXAMPLE, **kwargs)
    assert str(info.value) == "solve_batches." + message


def test_write_solutions_checks_its_arguments(tmp_path):
    out = tmp_path / "o.csv"
    for outcomes, got in ((None, "got NoneType"), ("ab", "got a sequence holding a str")):
        with pytest.raises(InvalidParameterError,
                           match=rf"write_solutions\.outcomes: must be a sequence of "
                                 rf"BatchOutcome .*; {got}$"):
            write_solutions(outcomes, out)
    outcomes = solve_batches(EXAMPLE).outcomes
    with pytest.raises(InvalidParameterError, match=r"write_solutions\.out: must be a path"):
        write_solutions(outcomes, None)
    assert not out.exists()
    assert write_solutions(outcomes, str(out)) == 15


def _instance():
    return random_instance(2, 2, seed=0)


def _domain():
    return make_domain("capacity", 4, 1, seed=0)


@pytest.mark.parametrize("call, owner, value", [
    (lambda p: read_batches(p), "read_batches", None),
    (lambda p: read_batches_keep_going(p), "read_batches", 3),
    (lambda p: read_pomdp(p), "read_pomdp", 3),
    (lambda p: write_pomdp(read_pomdp(DATA / "tiger.pomdp"), p), "write_pomdp", None),
    (lambda p: save_instance(_instance(), p), "save_instance", None),
    (lambda p: load_instance(p), "load_instance", b"/x"),
    (lambda p: save_domain(_domain(), p), "save_domain", 3),
    (lambda p: load_domain(p), "load_domain", None),
])
def test_path_arguments_must_be_paths(call, owner, value):
    got = type(value).__name__
    with pytest.raises(InvalidParameterError) as info:
        call(value)
    assert str(info.value) == f"{owner}.path: must be a path (str or os.PathLike); got {got}"


def test_writers_name_files_in_their_format(tmp_path):
    """'save_domain(d, "d.json")' wrote an .npz archive under a JSON name (the spec's JSON or
    .npz, a review): each writer refuses a name that promises another format, before writing;
    any case of the suffix is accepted."""
    from rmab.sim import compare

    result = compare(_instance(), ["random"], episodes=2, horizon=2, seed=0, progress=False)
    for call, owner, good in (
            (lambda p: save_instance(_instance(), p), "save_instance.path", "i.NPZ"),
            (lambda p: save_domain(_domain(), p), "save_domain.path", "d.npz"),
            (result.save, "ComparisonResult.save.path", "c.npz"),
            (result.to_csv, "ComparisonResult.to_csv.path", "c.CSV")):
        bad = tmp_path / ("x.json" if good.lower().endswith(".npz") else "x.txt")
        with pytest.raises(InvalidParameterError, match=f"^{owner}: must be a path ending in "):
            call(bad)
        assert not bad.exists()
        call(tmp_path / good)
        assert (tmp_path / good).is_file()
    # the week's CSV from Python, as 'rmab solve --out' (it wrote a CSV under 'o.txt')
    with pytest.raises(InvalidParameterError, match=r"^solve_batches\.out: must be a path "
                                                    r"ending in \.csv"):
        solve_batches(EXAMPLE, out=tmp_path / "o.txt")
    assert not (tmp_path / "o.txt").exists()
    done = solve_batches(EXAMPLE)
    with pytest.raises(InvalidParameterError, match=r"^write_solutions\.out: must be a path "
                                                    r"ending in \.csv"):
        write_solutions(done.outcomes, tmp_path / "o.txt")
    assert solve_batches(EXAMPLE, out=tmp_path / "o.CSV").ok


class _PathLike:
    """An os.PathLike that is not a pathlib.Path."""

    def __init__(self, path):
        self.path = str(path)

    def __fspath__(self):
        return self.path


def test_path_arguments_take_str_and_any_pathlike(tmp_path):
    save_instance(_instance(), str(tmp_path / "i.npz"))
    assert load_instance(_PathLike(tmp_path / "i.npz")).n_arms == 2
    out = _PathLike(tmp_path / "s.csv")
    assert solve_batches(_PathLike(EXAMPLE), out=out).ok
    edges = tmp_path / "e.csv"
    write_edge_list([[0, 1], [1, 2]], _PathLike(edges))
    assert read_edge_list(_PathLike(edges))[1] == 3
    with pytest.raises(InvalidParameterError, match=r"read_edge_list\.path: must be a path"):
        read_edge_list(3)
    with pytest.raises(InvalidParameterError, match=r"write_edge_list\.path: must be a path"):
        write_edge_list([[0, 1]], None)
    with pytest.raises(InvalidParameterError, match=r"write_edge_list\.path: must be a path "
                                                    r"ending in \.csv .*; got '.*g\.npz'$"):
        write_edge_list([[0, 1]], tmp_path / "g.npz")         # CSV text under an .npz name
    assert not (tmp_path / "g.npz").exists()


def test_generate_names_its_arms_flag(tmp_path, capsys):
    """budget_from_fraction's new check ran first and named itself, not the flag."""
    assert main(["generate", "health", "--arms", "0", "-o", str(tmp_path / "g.npz")]) == 1
    assert "generate.arms: must be >= 1; got 0" in capsys.readouterr().err


def test_numpy_bools_and_exact_large_integers_are_taken():
    """A review of the fixes: progress=np.False_ was refused by compare and evaluate_domain;
    2**62 - 1 was refused as 'below 2**62' through its rounded float."""
    from rmab._validation import check_number
    from rmab.domains.evaluate import evaluate_domain
    from rmab.sim.compare import compare

    assert compare(_instance(), ["no-action"], episodes=1, horizon=2, progress=np.False_)
    assert evaluate_domain(_domain(), ["no-action"], episodes=1, horizon=2,
                           progress=np.False_)
    assert check_number("o", "f", 2**62 - 1, integer=True) == 2**62 - 1
    with pytest.raises(InvalidParameterError, match="must be below 2"):
        check_number("o", "f", 2**62, integer=True)


def test_discounts_within_1e_9_of_one_are_refused_everywhere(capsys):
    """A fuzz review: at 1 - 1e-12 the homotopy's Whittle indices were all +inf with
    indexable=True, at 1 - 1e-11 one was 0.27 against 0.31, and an Instance's episode would
    run for 4.6e12 periods. 1 - 1e-9 itself, and exactly 1 over a horizon, are still taken."""
    from rmab.domains.index_baselines import relaxed_instance
    from rmab.models import Instance
    from rmab.relax import belief_whittle_indices, finite_whittle_indices, whittle_indices
    from rmab.values import fib_bound, solve_finite_pbvi, solve_pbvi, value_iteration

    mdp = random_mdp_arms(2, 2, 2, seed=0)
    pomdp = health_intervention(2, seed=0).arms
    near, edge = 1 - 1e-12, 1 - 1e-9
    calls = {
        "Instance": lambda d: Instance(mdp, 1.0, discount=d),
        "whittle_indices": lambda d: whittle_indices(mdp, discount=d),
        "finite_whittle_indices": lambda d: finite_whittle_indices(mdp, horizon=3, discount=d),
        "belief_whittle_indices": lambda d: belief_whittle_indices(pomdp, discount=d),
        "value_iteration": lambda d: value_iteration(mdp, discount=d),
        "solve_pbvi": lambda d: solve_pbvi(pomdp, discount=d),
        "solve_finite_pbvi": lambda d: solve_finite_pbvi(pomdp, horizon=3, discount=d),
        "fib_bound": lambda d: fib_bound(pomdp, discount=d),
        "read_batches": lambda d: read_batches(EXAMPLE, discount=d),
        "relaxed_instance": lambda d: relaxed_instance(make_domain("capacity", 4, 2, seed=0),
                                                       discount=d),
    }
    for owner, call in calls.items():
        with pytest.raises((InvalidParameterError, InvalidModelError),
                           match=rf"^{owner}\.discount: must be at most 1 - 1e-09"):
            call(near)
    assert Instance(mdp, 1.0, discount=edge).discount == edge
    assert np.isfinite(whittle_indices(mdp, discount=edge).indices).all()
    assert Instance(mdp, 1.0, discount=1.0, horizon=3).discount == 1.0
    assert main(["solve", str(EXAMPLE), "--discount", str(near)]) != 0
    assert "solve.discount: must be at most 1 - 1e-09" in capsys.readouterr().err


def test_a_files_text_given_for_its_path_is_named_as_such():
    """``solve_batches(df.to_csv(index=False), ...)`` passes the CSV's text (DataFrame.to_csv
    returns it without a path): the error repeated the whole text twice, with errno 36."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for call in (lambda: read_batches(text), lambda: solve_batches(text, "myopic"),
                 lambda: load_instance("a\nb")):
        with pytest.raises(InvalidParameterError, match=r"must be a path, not a file's contents; "
                           r"got text of \d+ lines beginning ") as info:
            call()
        assert len(str(info.value)) < 250
    with pytest.raises(InvalidParameterError, match=r"^read_batches\.path: .* beginning "
                       r"'batch_id,arm_id,budget,discount,state,belief,"):
        read_batches(text)


@pytest.mark.parametrize("call", [
    lambda inst: __import__("rmab").whittle_indices(inst),
    lambda inst: __import__("rmab").belief_whittle_indices(inst),
    lambda inst: __import__("rmab").solve_pbvi(inst),
    lambda inst: __import__("rmab").value_iteration(inst),
    lambda inst: __import__("rmab").update_beliefs(inst, inst.initial_belief,
                                                   np.zeros(inst.n_arms, int),
                                                   np.zeros(inst.n_arms, int)),
])
def test_an_instance_given_for_arms_is_told_to_pass_its_arms_and_discount(call):
    """whittle_indices(instance) said only 'must be MDPArms; got Instance', and with
    instance.arms alone the indices silently took the default discount 0.95, not the
    instance's (a walkthrough)."""
    inst = health_intervention(4, seed=0)
    with pytest.raises(InvalidParameterError, match=r"\.arms: must be .*; got Instance \(an "
                                                    r"Instance: pass instance\.arms, and "
                                                    r"discount=instance\.discount where the "
                                                    r"function takes one\)$"):
        call(inst)
