"""``rmab generate``: seeded instances written to .npz, and its argument errors."""

import pathlib
import warnings

import numpy as np
import pytest

from rmab.cli import main
from rmab.domains import (load_domain, make_capacity, make_domain, make_scheduling,
                          path_from_csv)
from rmab.models import health_intervention, load_instance


@pytest.mark.parametrize("kind, extra, n_obs", [("health", [], 2),
                                                ("random", ["--obs", "3"], 3),
                                                ("random", ["--obs", "0"], None),
                                                ("collapsing", [], 2)])
def test_writes_a_seeded_instance(kind, extra, n_obs, tmp_path, capsys):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for path in (a, b):
        assert main(["generate", kind, "--arms", "10", "--seed", "3", "-o", str(path),
                     *extra]) == 0
    assert a.read_bytes() == b.read_bytes()            # the same seed, the same file
    inst = load_instance(a)
    assert inst.n_arms == 10 and inst.budget == (2.0 if kind == "random" else 1.0)
    assert inst.metadata["seed"] == 3 and inst.metadata["params"]["n_arms"] == 10
    if kind == "random":
        assert inst.fully_observed == (n_obs is None)
        assert n_obs is None or inst.n_obs == n_obs
    err = capsys.readouterr().err
    assert f"wrote {a}" in err
    assert ("fully observed" in err) == inst.fully_observed     # "2 signals" for --obs 0


def test_a_health_budget_given_as_the_fraction_is_said_in_the_flags_terms(tmp_path, capsys):
    """--budget-fraction 10 meant as 10 calls (a walkthrough) said
    'health_intervention(...).replace(budget=10)', Python on the command line."""
    out = tmp_path / "x.npz"
    assert main(["generate", "health", "--arms", "50", "-o", str(out), "--budget-fraction",
                 "10"]) == 1
    assert capsys.readouterr().err == (
        "rmab: error: generate.budget_fraction: must be <= 2 (a share of the arms: 2 visits "
        "them all); got 10, a budget of 10 calls? --budget-fraction 0.2 (10 of 50 arms)\n")
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--budget-fraction", "nan"], "generate.budget_fraction: must be"),
    (["--budget-fraction", "-0.5"], "generate.budget_fraction: must be >= 0"),
    (["--obs", "-1"], "generate.obs: must be >= 0"),
])
def test_bad_arguments_exit_1(argv, message, tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["generate", "random", "--arms", "5", "-o", str(out), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error: ") and message in err
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["generate", "health", "--discount", "1"],
     "generate.horizon: --discount 1 (the plain total) needs a finite horizon: pass --horizon H"),
    (["generate", "capacity", "--arms", "3"],
     "generate.budget: the default budget 5 exceeds --arms 3; pass --budget B with B <= 3"),
    (["compare", "--domain", "capacity", "--arms", "2", "--no-progress"],
     "compare.budget: the default budget 5 exceeds --arms 2; pass --budget B with B <= 2"),
    pytest.param(["train", "--domain", "capacity", "--arms", "4", "--no-progress"],
                 "train.budget: the default budget 5 exceeds --arms 4; pass --budget B with "
                 "B <= 4", marks=pytest.mark.torch),     # train needs torch to read its flags
])
def test_errors_name_the_flags_to_change(argv, message, tmp_path, capsys):
    """They named Instance.horizon, or make_capacity.budget 'got 5', a value never typed (a
    CLI review)."""
    out = ["-o", str(tmp_path / "x.npz")] if argv[0] == "generate" else \
        ["--out", str(tmp_path / "run")] if argv[0] == "train" else []
    assert main([*argv, *out]) == 1
    assert capsys.readouterr().err == f"rmab: error: {message}\n"
    assert not list(tmp_path.iterdir())


def test_an_output_not_ending_in_npz_is_refused(tmp_path, capsys):
    """'-o README.md' replaced the README with an archive."""
    readme = tmp_path / "README.md"
    readme.write_text("keep me")
    assert main(["generate", "health", "--arms", "5", "-o", str(readme)]) == 1
    assert capsys.readouterr().err == (f"rmab: error: generate.out: must be a path ending in "
                                       f".npz; got {str(readme)!r}\n")
    assert readme.read_text() == "keep me"


@pytest.mark.parametrize("kind", ["health", "collapsing"])
@pytest.mark.parametrize("flag", ["--actions", "--obs"])
def test_flags_of_random_arms_are_refused_elsewhere(kind, flag, tmp_path, capsys):
    """They were ignored silently (health arms have 3 actions and 2 signals)."""
    out = tmp_path / "x.npz"
    assert main(["generate", kind, "--arms", "5", "-o", str(out), flag, "4"]) == 1
    err = capsys.readouterr().err
    assert f"generate.{flag[2:]}: only for 'random'" in err
    assert not out.exists()


def test_health_takes_the_generators_clusters_and_noise(tmp_path):
    out = tmp_path / "h.npz"
    assert main(["generate", "health", "--arms", "10", "--seed", "3", "--clusters", "5",
                 "--noise", "0.1", "-o", str(out)]) == 0
    inst, want = load_instance(out), health_intervention(10, n_clusters=5, noise=0.1, seed=3)
    assert inst.metadata["params"] == want.metadata["params"]
    np.testing.assert_array_equal(inst.arms.transitions, want.arms.transitions)
    np.testing.assert_array_equal(inst.arms.observations, want.arms.observations)


@pytest.mark.parametrize("argv, message", [
    (["--noise", "0.5"], "generate.noise: must be <= 0.2; got 0.5"),
    (["--clusters", "0"], "generate.clusters: must be >= 1; got 0"),
])
def test_bad_health_parameters_exit_1(argv, message, tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["generate", "health", "--arms", "5", "-o", str(out), *argv]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("kind", ["random", "collapsing"])
@pytest.mark.parametrize("flag", ["--clusters", "--noise"])
def test_flags_of_health_arms_are_refused_elsewhere(kind, flag, tmp_path, capsys):
    out = tmp_path / "x.npz"
    assert main(["generate", kind, "--arms", "5", "-o", str(out), flag, "1"]) == 1
    assert f"generate.{flag[2:]}: only for 'health'; got {flag} 1" in \
        capsys.readouterr().err
    assert not out.exists()


# -- coRMAB domains --------------------------------------------------------------------------

def _same_domain(a, b):
    assert type(a) is type(b)
    left, right = a.to_arrays(), b.to_arrays()
    assert left.keys() == right.keys()
    for key in left:
        np.testing.assert_array_equal(left[key], right[key], err_msg=key)


@pytest.mark.parametrize("kind, extra, params, summary", [
    ("capacity", [], {}, "capacity domain, 12 arms, budget 3, 3 workers (5 arms costing more "
                         "than any can serve)"),
    ("interventions", ["--interventions", "6"], {"n_interventions": 6},
     "interventions domain, 12 arms, budget 3, 6 interventions"),
    ("scheduling", [], {}, "scheduling domain, 12 arms, budget 3, 3 workers, 5 slots"),
    ("path", ["--edges", "15"], {"n_edges": 15},
     "path domain, 12 arms, budget 3, 15 edges, source 0, route length 6 (1 node out of its "
     "reach)"),
])
def test_writes_the_seeded_domain_of_its_generator(kind, extra, params, summary, tmp_path,
                                                    capsys):
    """The file holds make_domain's instance, the one 'rmab train --domain' trains on."""
    out = tmp_path / "d.npz"
    assert main(["generate", kind, "--arms", "12", "--budget", "3", "--seed", "4", *extra,
                 "-o", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out}: {summary}\n"
    _same_domain(load_domain(out), make_domain(kind, 12, 3, seed=4, **params))


def test_capacity_arms_no_worker_can_serve_are_counted(tmp_path, capsys):
    """make_capacity is silent about them (its draws make them often); the summary counts
    them: the walkthrough's 6-arm instance had 3 that no planner could ever serve."""
    out = tmp_path / "d.npz"
    assert main(["generate", "capacity", "--arms", "6", "--budget", "2", "-o", str(out)]) == 0
    assert capsys.readouterr().err == (f"wrote {out}: capacity domain, 6 arms, budget 2, 2 "
                                       f"workers (3 arms costing more than any can serve)\n")
    d = load_domain(out)
    assert d.unservable.tolist() == np.flatnonzero(d.costs > d.capacities.max()).tolist()


def test_scheduling_arms_never_pulled_are_counted_not_warned_of(tmp_path, capsys):
    """make_scheduling is silent about them, as make_capacity and make_path are about theirs;
    it alone had warned, in 'rmab generate', 'rmab train' and 'rmab compare' (a walkthrough)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert make_scheduling(10, 3, seed=0).unpullable.tolist() == [3]
    out = tmp_path / "d.npz"
    assert main(["generate", "scheduling", "--arms", "10", "--budget", "3", "-o",
                 str(out)]) == 0
    assert capsys.readouterr().err == (f"wrote {out}: scheduling domain, 10 arms, budget 3, 3 "
                                       f"workers, 5 slots (1 arm sharing fewer than two "
                                       f"(worker, slot) pairs with them, never pulled)\n")


def test_a_domain_summary_counts_one_worker_in_the_singular(tmp_path, capsys):
    """'1 workers' read wrong (a walkthrough); count_noun as in every other count."""
    out = tmp_path / "d.npz"
    assert main(["generate", "capacity", "--arms", "3", "--budget", "1", "-o", str(out)]) == 0
    assert capsys.readouterr().err == (f"wrote {out}: capacity domain, 3 arms, budget 1, "
                                       f"1 worker\n")


def test_a_domain_defaults_to_the_papers_size(tmp_path):
    out = tmp_path / "d.npz"
    assert main(["generate", "capacity", "-o", str(out)]) == 0
    _same_domain(load_domain(out), make_capacity(20, 5, seed=0))


def test_compare_reads_a_generated_domain(tmp_path, capsys):
    out = tmp_path / "d.npz"
    assert main(["generate", "scheduling", "--arms", "8", "--budget", "2", "-o", str(out)]) == 0
    assert main(["compare", "--domain-file", str(out), "--planners", "no-action,random",
                 "--episodes", "1", "--horizon", "2", "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("scheduling: ") and "no-action" in table and "random" in table


def test_the_readme_graph_command_counts_the_nodes_out_of_reach_once(tmp_path, capsys):
    """The bundled graph at route length 10 leaves nodes 2 and 14 out of reach: the summary
    counts them and no warning repeats it (it did: a review)."""
    import warnings

    data = pathlib.Path(__file__).resolve().parents[2] / "data" / "graph_example.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["generate", "path", "--graph", str(data), "--source", "0",
                     "--route-length", "10", "-o", str(tmp_path / "p.npz")]) == 0
    # with what reaches them, as the warning said (the summary had dropped it; a walkthrough)
    assert capsys.readouterr().err.endswith("route length 10 (2 nodes out of its reach; "
                                            "--route-length 12 reaches them all)\n")


def test_the_graph_summary_reaches_only_the_connected_nodes(tmp_path, capsys):
    """Nodes 6 and 7 are not connected to the source: no route length reaches them, and the
    summary's 'reaches them all' of the 6 nodes out of reach was wrong (a review)."""
    graph = tmp_path / "g.csv"
    graph.write_text("u,v\n0,1\n1,2\n2,3\n3,4\n4,5\n6,7\n")
    assert main(["generate", "path", "--graph", str(graph), "--route-length", "2",
                 "--budget", "2", "-o", str(tmp_path / "p.npz")]) == 0
    err = capsys.readouterr().err
    assert "2 of 8 nodes are not connected to the source 0" in err, err
    assert err.endswith("route length 2 (6 nodes out of its reach; --route-length 10 reaches "
                        "the 4 connected to the source)\n"), err


def test_path_on_a_csv_graph(tmp_path, capsys):
    graph, out = tmp_path / "g.csv", tmp_path / "d.npz"
    graph.write_text("u,v\n0,1\n1,2\n2,3\n3,0\n1,4\n")
    assert main(["generate", "path", "--graph", str(graph), "--budget", "2", "--source", "1",
                 "--route-length", "5", "--seed", "7", "-o", str(out)]) == 0
    assert capsys.readouterr().err == (f"wrote {out}: path domain, 5 arms, budget 2, 5 edges, "
                                       f"source 1, route length 5\n")
    _same_domain(load_domain(out),
                 path_from_csv(graph, 2, source=1, route_length=5, seed=7))
    # --arms: the nodes (an isolated last one is not connected to the source: a warning)
    assert main(["generate", "path", "--graph", str(graph), "--arms", "6", "-o", str(out)]) == 0
    assert load_domain(out).n_arms == 6
    assert "rmab: warning: PathDomain: 1 of 6 nodes is not connected" in capsys.readouterr().err
    # the output may not be the graph it reads (it replaced the CSV)
    same = tmp_path / "g2.npz"
    same.write_text(graph.read_text())
    assert main(["generate", "path", "--graph", str(same), "--budget", "1", "-o",
                 str(same)]) == 1
    assert "must not be an input of this run" in capsys.readouterr().err
    assert same.read_text().startswith("u,v")
    # a route far longer than a tour of the graph: the sampler walks at most 2 (r - 1) moves
    assert main(["generate", "path", "--graph", str(graph), "--budget", "2",
                 "--route-length", "1000000", "-o", str(out)]) == 0
    far = load_domain(out)
    assert far.route_length == 1_000_000 and far.moves == 8
    assert all(far.is_feasible(far.sample_action(s)) for s in range(5))


@pytest.mark.parametrize("kind, argv, message", [
    # flags of the other family
    ("capacity", ["--discount", "0.9"], "generate.discount: only for the instance kinds "
                                        "(health, random, collapsing); got --discount 0.9"),
    ("path", ["--budget-fraction", "0.2"], "generate.budget_fraction: only for the instance "
                                           "kinds (health, random, collapsing); got "
                                           "--budget-fraction 0.2"),
    ("scheduling", ["--states", "3"], "generate.states: only for the instance kinds"),
    ("interventions", ["--horizon", "5"], "generate.horizon: only for the instance kinds"),
    ("capacity", ["--obs", "2"], "generate.obs: only for 'random' (capacity arms fix it)"),
    ("capacity", ["--clusters", "2"], "generate.clusters: only for 'health'; got --clusters 2"),
    ("path", ["--noise", "0.1"], "generate.noise: only for 'health'; got --noise 0.1"),
    ("health", ["--budget", "3"], "generate.budget: only for the domains (capacity, "
                                  "interventions, scheduling, path); got --budget 3; an "
                                  "instance takes --budget-fraction"),
    ("random", ["--graph", "g.csv"], "generate.graph: only for 'path'; got --graph g.csv"),
    ("collapsing", ["--route-length", "4"], "generate.route_length: only for 'path'"),
    # flags of another domain
    ("capacity", ["--graph", "g.csv"], "generate.graph: only for 'path'; got --graph g.csv"),
    ("scheduling", ["--source", "1"], "generate.source: only for 'path'; got --source 1"),
    ("capacity", ["--route-length", "4"], "generate.route_length: only for 'path'; got "
                                          "--route-length 4"),
    ("path", ["--interventions", "4"], "generate.interventions: only for 'interventions'"),
    ("capacity", ["--edges", "30"], "generate.edges: only for 'path'; got --edges 30"),
    # path flags that need (or exclude) --graph
    ("path", ["--source", "1"], "generate.source: only with --graph"),
    ("path", ["--route-length", "4"], "generate.route_length: only with --graph"),
    ("path", ["--graph", "g.csv", "--edges", "7"], "generate.edges: not with --graph"),
    # the generators' own checks
    ("capacity", ["--budget", "30"], "make_capacity.budget: must be <= 20; got 30"),
    # with --arms, named by the flags (make_capacity.budget before)
    ("path", ["--arms", "6", "--budget", "7"], "generate.budget: must be <= --arms 6 (every "
                                               "domain pulls at most its arms); got --budget 7"),
    ("scheduling", ["--budget", "0"], "generate.budget: must be >= 1; got 0"),
    ("path", ["--arms", "1", "--budget", "1"], "make_path.n_arms: must be >= 2; got 1"),
    ("path", ["--edges", "5"], "sparse_connected_graph.n_edges: must be in [19, 190] (from a "
                              "spanning tree to every pair of the 20 nodes); got 5"),
    ("interventions", ["--interventions", "30"], "make_interventions.n_arms: must be >= 3 * "
                                                 "ceil(n_interventions / 3) = 30; got 20 (the "
                                                 "arms come in groups of three"),
])
def test_bad_domain_arguments_exit_1(kind, argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.csv").write_text("u,v\n0,1\n1,2\n")
    out = tmp_path / "x.npz"
    assert main(["generate", kind, "-o", str(out), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error: ") and message in err, err
    assert not out.exists()


@pytest.mark.parametrize("text, argv, message", [
    (None, [], "read_edge_list.path: must be an existing file; got "),
    ("a,b\n0,1\n", [], "line 1: read_edge_list.header: must be 'u,v'; got 'a,b'"),
    ("u,v\n0,1\n1,x\n", [], "line 3, column 'v': read_edge_list.v: must be a node index "
                            "(integer >= 0, digits 0-9 only); got 'x'"),
    ("u,v\n0,1\n1,2\n", ["--budget", "4"], "path_from_csv.budget: must be <= 3; got 4"),
    ("u,v\n0,1\n1,2\n", ["--source", "3"],
     "PathDomain.source: must be a node index in [0, 3); got 3"),
    ("u,v\n0,1\n1,3\n", ["--arms", "3"], "read_edge_list.v: must be a node index in [0, 3); "
                                         "got 3 (n_nodes=3: the domain's nodes are its arms)"),
])
def test_a_bad_graph_csv_surfaces_the_readers_error(text, argv, message, tmp_path, capsys):
    graph, out = tmp_path / "g.csv", tmp_path / "x.npz"
    if text is not None:
        graph.write_text(text)
    assert main(["generate", "path", "--graph", str(graph), "--budget", "1", *argv, "-o",
                 str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error: ") and message in err, err
    assert not out.exists()


def test_a_domain_output_not_ending_in_npz_is_refused(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("keep me")
    assert main(["generate", "capacity", "-o", str(readme)]) == 1
    assert "generate.out: must be a path ending in .npz" in capsys.readouterr().err
    assert readme.read_text() == "keep me"


def test_random_from_the_command_line_is_random_instance(tmp_path):
    """The command's budget fraction defaulted to 0.1 where random_instance's is 0.2: the same
    seed gave budget 1 and 2, with the same metadata (a new user's walkthrough)."""
    from rmab.models import random_instance

    path = tmp_path / "r.npz"
    assert main(["generate", "random", "--arms", "10", "--seed", "0", "-o", str(path)]) == 0
    got, made = load_instance(path), random_instance(10, seed=0)
    assert got.budget == made.budget == 2.0 and got.metadata == made.metadata
    np.testing.assert_array_equal(got.arms.transitions, made.arms.transitions)


def test_the_default_budget_fits_exactly_five_arms_or_nodes(tmp_path, capsys):
    """Every domain pulls at most its arms, so the default budget 5 fits 5 arms (or a graph of
    5 nodes) and is refused only below that: the boundary of both checks, against the Python
    generators at budget 5."""
    out = tmp_path / "d.npz"
    assert main(["generate", "capacity", "--arms", "5", "-o", str(out)]) == 0
    _same_domain(load_domain(out), make_capacity(5, 5, seed=0))
    graph = tmp_path / "g.csv"
    graph.write_text("u,v\n0,1\n1,2\n2,3\n3,4\n")                   # nodes 0..4
    assert main(["generate", "path", "--graph", str(graph), "-o", str(out)]) == 0
    _same_domain(load_domain(out), path_from_csv(graph, 5, seed=0))
    capsys.readouterr()
    assert main(["generate", "capacity", "--arms", "4", "-o", str(out)]) == 1
    assert "the default budget 5 exceeds --arms 4" in capsys.readouterr().err


@pytest.mark.parametrize("kind, argv, message", [
    ("health", ["--min-active", "3", "--max-active", "2"],
     "rmab: error: generate.max_active: must be >= --min-active (3); got 2 (at least 3 arms must "
     "act each period but at most 2 may: lower --min-active or raise --max-active, or set both "
     "to k for exactly k)\n"),
    ("health", ["--min-active", "6"], "generate.min_active: must be <= --arms (5); got 6"),
    ("health", ["--action-caps", "1;inf;inf"], "generate.action_caps: entry 0 (passive) must "
                                               "be inf; got 1 (use --min-active to limit"),
    ("random", ["--discount", "2"], "generate.discount: must be <= 1.0; got 2.0"),
    ("collapsing", ["--states", "1"], "generate.states: must be >= 2; got 1"),
    # 'must have shape (n_actions=3); got (2,)' named no flag, and the budget no fix
    ("health", ["--action-caps", "inf;1"], "rmab: error: generate.action_caps: must give 3 caps, "
     "one per action: none, call, visit (inf = no cap); got 2: 'inf;1'\n"),
    ("random", ["--action-caps", "inf;1;3"], "generate.action_caps: must give 2 caps, one per "
     "action (inf = no cap); got 3: 'inf;1;3'\n"),
    ("health", ["--min-active", "3", "--budget-fraction", "0.2"], "rmab: error: "
     "generate.min_active: the cheapest 3 active arms must fit the budget 1; they cost 3: raise "
     "--budget-fraction (now 0.2, a budget of 1) or lower --min-active\n"),
    # the arm generators' errors named random_pomdp_arms.n_actions; 'the arms the action_caps
    # let act' named the field, not the flag
    ("random", ["--actions", "0"], "rmab: error: generate.actions: must be >= 1; got 0\n"),
    ("random", ["--states", "0"], "rmab: error: generate.states: must be >= 1; got 0\n"),
    ("random", ["--states", "0", "--obs", "0"], "error: generate.states: must be >= 1; got 0\n"),
    ("health", ["--min-active", "1", "--action-caps", "inf;0;0"], "error: generate.min_active: "
     "must be at most the arms the --action-caps let act; got 1 with caps [0.0, 0.0]\n"),
])
def test_an_instance_s_errors_name_the_flags_typed(kind, argv, message, tmp_path, capsys):
    """'Instance.max_active: must be >= min_active (3)' beside --min-active 3 --max-active 2
    named fields the user never typed (a walkthrough)."""
    out = tmp_path / "x.npz"
    assert main(["generate", kind, "--arms", "5", "-o", str(out), *argv]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Instance." not in err and "_active " not in err and not out.exists()
    assert "_arms." not in err and " action_caps " not in err
