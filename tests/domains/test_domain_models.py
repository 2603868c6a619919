"""Base arm, generators (determinism, paper parameters), simulator and expected reward."""

import warnings

import networkx as nx
import numpy as np
import pytest

from rmab.domains import (BaseArms, CapacityDomain, initial_states, make_capacity, make_domain,
                          make_interventions, make_path, make_scheduling, sparse_connected_graph)
from rmab.domains.graphs import PAPER_EDGE_COUNTS, default_edge_count
from rmab.domains.interventions import sigmoid_link
from rmab.errors import InvalidModelError, InvalidParameterError

KINDS = ["interventions", "capacity", "scheduling", "path"]


@pytest.mark.parametrize("kind", KINDS)
def test_generator_is_deterministic_and_seed_dependent(kind):
    a, b, c = (make_domain(kind, 20, 5, seed=s) for s in (3, 3, 4))
    for key, value in a.to_arrays().items():
        np.testing.assert_array_equal(value, b.to_arrays()[key])
    assert any(not np.array_equal(v, c.to_arrays()[k]) for k, v in a.to_arrays().items()
               if isinstance(v, np.ndarray))


@pytest.mark.parametrize("kind", KINDS)
def test_paper_rewards(kind):
    d = make_domain(kind, 40, 10, seed=1)
    r = d.arms.rewards
    assert r.shape == (40, 4)
    np.testing.assert_array_equal(r[:10, :3], np.tile([0.2, 0.15, 0.1], (10, 1)))
    np.testing.assert_array_equal(r[10:, :3], np.tile([0.1, 0.15, 0.2], (30, 1)))
    assert set(r[:10, 3]) <= {4, 5, 6} and set(r[10:, 3]) <= {1, 2, 3}
    assert len(set(r[10:, 3])) > 1


@pytest.mark.parametrize("maker", [make_capacity, make_scheduling, make_path])
def test_pull_probability_ranges(maker):
    up = maker(100, 20, seed=2).arms.up_prob
    assert up.shape == (100, 2)
    assert up[:, 0].min() >= 0 and up[:, 0].max() <= 0.2 and up[:, 0].max() > 0.15
    assert up[:, 1].min() >= 0.7 and up[:, 1].max() <= 0.9


def test_capacity_ranges():
    d = make_capacity(100, 20, seed=0)
    assert d.n_workers == 20 and d.budget == 20
    assert set(d.costs) == set(range(2, 7)) and set(d.capacities) <= set(range(2, 8))


def test_scheduling_availability_counts_and_skew():
    d = make_scheduling(400, 60, seed=0)
    assert d.n_slots == 5
    assert (d.arm_avail.sum(axis=1) == 2).all() and (d.worker_avail.sum(axis=1) == 3).all()
    arm_freq, worker_freq = d.arm_avail.mean(axis=0), d.worker_avail.mean(axis=0)
    assert arm_freq[-1] > arm_freq[0] and worker_freq[0] > worker_freq[-1]


def test_interventions_structure_and_link():
    d = make_interventions(20, 10, 5, seed=0)
    om = d.omega
    assert set(np.unique(om)) == {0.0, 3.0}
    # intervention i acts on arms 3(i//3) .. 3(i//3)+2
    for i in range(10):
        np.testing.assert_array_equal(np.flatnonzero(om[:, i]), 3 * (i // 3) + np.arange(3))
    assert (om[12:] == 0).all()
    good = np.arange(20) < 5
    assert (d.alpha[good] >= 0.7).all() and (d.alpha[good] <= 1.0).all()
    assert (d.alpha[~good] >= 0.2).all() and (d.alpha[~good] <= 0.5).all()
    assert set(d.x0[good]) <= {9, 10} and set(d.x0[~good]) <= {1, 2}
    assert (d.slope[~good] == 1).all() and (d.slope[good] >= 1.4).all()
    # lookup table = the link at x = 0, 3, 6, 9; p(0) = 0.01 exactly
    j = 1
    x = np.array([0, 3, 6, 9])
    ref = [0.98 * d.alpha[j] * (1 / (1 + np.exp(-(d.slope[j] * v - d.x0[j])))
                                - 1 / (1 + np.exp(d.x0[j]))) + 0.01 for v in x]
    np.testing.assert_allclose(d.arms.up_prob[j], ref, rtol=1e-12)
    np.testing.assert_allclose(d.arms.up_prob[:, 0], 0.01)
    # good arms respond to all three of their group together, bad arms to one
    assert (d.arms.up_prob[good, 3] > 0.5).all() and (d.arms.up_prob[good, 1] < 0.05).all()
    # ... but two of three already give part of it: b x - x0 at x = 6 lies in [-1.6, 2.4], so
    # σ there is 0.17-0.92 of σ at x = 9 (docs/domains.md: median 62 %)
    part = (d.arms.up_prob[good, 2] - 0.01) / (d.arms.up_prob[good, 3] - 0.01)
    assert ((part > 0.15) & (part < 0.95)).all()
    assert (d.arms.up_prob[5:12, 1] > 0.1).all()
    a = np.zeros(10, dtype=int)
    a[[0, 1, 2, 9, 4]] = 1
    np.testing.assert_array_equal(d.arm_levels(a)[:12], [3, 3, 3, 1, 1, 1, 0, 0, 0, 1, 1, 1])
    assert sigmoid_link(0.0, 1.0, 1.0, 2.0) == pytest.approx(0.01)
    with warnings.catch_warnings():            # np.exp overflowed at |b x - x0| ~ 700 (a review)
        warnings.simplefilter("error")
        far = sigmoid_link(np.array([0.0, 9.0]), 1.0, 500.0, 1000.0)
    np.testing.assert_allclose(far, [0.01, 0.99])


def test_graph_generator_sizes_connected():
    for n, m in PAPER_EDGE_COUNTS.items():
        edges = sparse_connected_graph(n, seed=n)
        assert len(edges) == m == default_edge_count(n)
        g = nx.Graph(edges.tolist())
        assert g.number_of_nodes() == n and nx.is_connected(g)
        assert 0 in nx.center(g)
    np.testing.assert_array_equal(sparse_connected_graph(30, seed=5),
                                  sparse_connected_graph(30, seed=5))


def test_initial_states_bernoulli():
    s = initial_states(20000, p_high=0.2, seed=0)
    assert set(np.unique(s)) == {0, 1}
    assert abs(s.mean() - 0.2) < 0.01
    u = np.linspace(0, 0.99, 10)
    np.testing.assert_array_equal(initial_states(10, u=u), (u < 0.2).astype(int))


@pytest.mark.parametrize("kind", KINDS)
def test_expected_reward_matches_monte_carlo(kind):
    d = make_domain(kind, 12, 3, seed=7)
    rng = np.random.default_rng(0)
    states = rng.integers(0, 4, 12)
    action = d.sample_action(rng)
    expected = d.expected_reward(states, action)
    n = 20000
    u = rng.random((n, 12))
    levels = d.arm_levels(action)
    nxt = d.arms.next_states(states, levels, u)            # broadcasts over the n draws
    sampled = d.arms.rewards[np.arange(12)[None, :], nxt].sum(axis=1)
    assert abs(sampled.mean() - expected) < 4 * sampled.std() / np.sqrt(n)
    res = d.step(states, action, u=u[0])
    assert res.expected_reward == pytest.approx(expected)
    np.testing.assert_array_equal(res.next_states, d.arms.next_states(states, levels, u[0]))


def test_step_dynamics_clip_and_common_random_numbers():
    arms = BaseArms([[0.0, 1.0], [0.0, 1.0], [0.5, 0.5]], [[0, 1, 2, 3]] * 3)
    s = np.array([0, 3, 2])
    np.testing.assert_array_equal(arms.next_states(s, np.array([0, 1, 0]), np.full(3, 0.4)),
                                  [0, 3, 3])
    np.testing.assert_array_equal(arms.next_states(s, np.array([0, 1, 0]), np.full(3, 0.6)),
                                  [0, 3, 1])
    # gains: E[r] = p * r(min(s+1,3)) + (1-p) r(max(s-1,0))
    np.testing.assert_allclose(arms.level_gains(s), [[0, 1], [2, 3], [2, 2]])
    d = make_capacity(10, 3, seed=0)
    a = d.sample_action(1)
    s0 = np.zeros(10, dtype=int)
    assert np.array_equal(d.step(s0, a, seed=5).next_states, d.step(s0, a, seed=5).next_states)
    with pytest.raises(InvalidParameterError, match=r"step: give seed or u, not both"):
        d.step(s0, a, seed=5, u=np.full(10, 0.5))                    # seed was ignored


def test_model_errors():
    with pytest.raises(InvalidModelError, match=r"BaseArms.up_prob: must lie in \[0, 1\].*arm 1"):
        BaseArms([[0.1, 0.2], [0.1, 1.5]], [[0, 1], [0, 1]])
    with pytest.raises(InvalidModelError, match="BaseArms.rewards: must have shape"):
        BaseArms([[0.1, 0.2]], [[1.0]])
    # a transposed up_prob (2 levels x 5 arms): the error blamed the rewards alone, as
    # 'must have shape (n_arms=2, ...)', and hid up_prob's shape (a walkthrough)
    with pytest.raises(InvalidModelError, match=r"^BaseArms.rewards: must have one row per arm, "
                                                r"as up_prob \(n_arms, n_levels\); got rewards "
                                                r"\(5, 4\) and up_prob \(2, 5\)$"):
        CapacityDomain.from_arrays(up_prob=np.full((2, 5), 0.5), rewards=np.ones((5, 4)),
                                   costs=np.ones(5), capacities=[3.0, 2.0])
    with pytest.raises(InvalidParameterError, match="initial_states.p_high"):
        initial_states(3, p_high=1.5)
    with pytest.raises(InvalidParameterError,
                       match=r"make_interventions.n_arms: must be >= 3 .* = 12; got 10"):
        make_interventions(10, 10, 3)
    with pytest.raises(InvalidParameterError, match="make_capacity.budget"):
        make_capacity(5, 6)
    # N_I grows with the budget beyond the paper's B = 5: B = 10 of 10 left a single action,
    # and B = 20 was refused
    for n_arms, budget, n_int in [(20, 5, 10), (40, 10, 20), (100, 20, 40), (20, 10, 18)]:
        d = make_domain("interventions", n_arms, budget, seed=0)
        assert d.n_interventions == n_int and d.n_interventions > d.budget
    with pytest.raises(InvalidParameterError, match="did you mean 'capacity'"):
        make_domain("capacty")
    for m in (5, 46, 2.5):
        with pytest.raises(InvalidParameterError, match=r"sparse_connected_graph.n_edges: must "
                                                        r"be (in \[9, 45\]|an integer)"):
            sparse_connected_graph(10, m)
    assert len(sparse_connected_graph(10, 45, seed=0)) == 45
    d = make_path(8, 2, seed=0)
    with pytest.raises(InvalidParameterError, match=r"PathDomain.step.u: must be numbers in "
                                                    r"\[0, 1\); got 1\.0 \(arm 0\)"):
        d.step(np.zeros(8, int), d.null_action(), u=np.full(8, 1.0))
    with pytest.raises(InvalidParameterError, match=r"PathDomain.step.u: must have shape "
                                                    r"\(n_arms=8,\); got \(7,\)"):
        d.step(np.zeros(8, int), d.null_action(), u=np.full(7, 0.5))
    with pytest.raises(InvalidParameterError, match=r"PathDomain.states: must lie in \[0, 4\)"):
        d.expected_reward(np.full(8, 4), d.null_action())


def test_raw_constructor_and_capacity_budget_errors():
    from rmab.domains import CapacityDomain, make_domain
    from rmab.domains.evaluate import compare_domain
    from rmab.errors import InvalidParameterError, RmabWarning

    d = make_domain("capacity", 6, 2, seed=0)
    with pytest.raises(InvalidModelError, match=r"CapacityDomain\.arms: must be BaseArms; got "
                                                r"ndarray \(build it with CapacityDomain"):
        CapacityDomain(d.arms.up_prob, 2, d.costs, d.capacities)
    with pytest.raises(InvalidModelError, match=r"CapacityDomain\.costs: must be a numpy array; "
                                                r"got list"):
        CapacityDomain(d.arms, 2, list(d.costs), d.capacities)
    numpy_budget = CapacityDomain(d.arms, np.int64(2), d.costs, d.capacities)
    assert type(numpy_budget.budget) is int             # save_domain's JSON failed on int64
    arrays = d.to_arrays()
    with pytest.warns(RmabWarning, match="can never be served"):   # the paper's draw has some
        assert CapacityDomain.from_arrays(**arrays, budget=2).budget == 2
    with pytest.raises(InvalidModelError, match=r"budget: must be the number of workers "
                                                r"len\(capacities\) = 2"):
        CapacityDomain.from_arrays(**arrays, budget=5)
    with pytest.raises(InvalidModelError, match=r"CapacityDomain.budget: must be an integer"):
        CapacityDomain.from_arrays(**arrays, budget=np.array([1, 1]))    # a bare ValueError
    with pytest.raises(InvalidParameterError, match=r"compare_domain\.seeds: must be a sequence"):
        compare_domain("path", n_arms=6, budget=2, seeds=3)


def test_degenerate_instances_warn_and_bom_edge_lists_read(tmp_path):
    from rmab.domains import CapacityDomain, PathDomain, SchedulingDomain
    from rmab.domains.graphs import read_edge_list
    from rmab.errors import RmabWarning

    up = np.tile([0.1, 0.8], (4, 1))
    rewards = np.tile([0.0, 0.3, 0.6, 1.0], (4, 1))
    with pytest.warns(RmabWarning, match=r"2 of 4 arms cost more than every worker's capacity "
                                         r"\(3\) and can never be served: \[1, 3\]"):
        CapacityDomain.from_arrays(up_prob=up, rewards=rewards, costs=[1.0, 5.0, 2.0, 4.0],
                                   capacities=[3.0, 2.0])
    with pytest.warns(RmabWarning, match=r"SchedulingDomain: 2 of 3 arms share fewer than two "
                                         r"\(worker, slot\) pairs .* never be pulled: \[0, 1\]"):
        SchedulingDomain.from_arrays(up_prob=up[:3], rewards=rewards[:3],
                                     arm_avail=[[0, 0, 1], [1, 0, 0], [1, 1, 0]],
                                     worker_avail=[[1, 1, 0]])
    with pytest.warns(RmabWarning, match=r"2 of 4 nodes are not connected to the source 0 "
                                         r"and can never be visited: \[2, 3\]"):
        PathDomain.from_arrays(up_prob=up, rewards=rewards, edges=[[0, 1], [2, 3]], budget=1)
    csv_path = tmp_path / "g.csv"
    csv_path.write_bytes("\ufeffu,v\r\n0,1\r\n1,2\r\n".encode())         # as Excel saves it
    edges, n = read_edge_list(csv_path, n_nodes=4)                      # node 3 isolated
    assert edges.tolist() == [[0, 1], [1, 2]] and n == 4


def test_an_edge_list_numbered_from_1_is_named_in_the_warning(tmp_path):
    """Sites numbered 1..n leave the default source 0 in no edge: every other node was 'not
    connected to the source 0', with no word of why (a walkthrough)."""
    from rmab.domains import PathDomain, path_from_csv
    from rmab.errors import RmabWarning

    csv_path = tmp_path / "sites.csv"
    csv_path.write_text("u,v\n1,2\n2,3\n3,1\n")
    with pytest.warns(RmabWarning, match=r"source 0 and can never be visited: \[1, 2, 3\]; the "
                                         r"source 0 is in no edge \(nodes count from 0: is the "
                                         r"edge list numbered from 1\?\)$"):
        path_from_csv(csv_path, budget=2, seed=0)
    up = np.tile([0.1, 0.8], (4, 1))
    rewards = np.tile([0.0, 0.3, 0.6, 1.0], (4, 1))
    with pytest.warns(RmabWarning, match=r"visited: \[0, 1, 2\]; the source 3 is in no edge$"):
        PathDomain.from_arrays(up_prob=up, rewards=rewards, edges=[[0, 1], [1, 2]], budget=1,
                               source=3)


def test_nodes_out_of_the_routes_reach_warn(tmp_path, capsys):
    """A route of route_length moves returns to the source, so it reaches only nodes within
    route_length // 2 moves; the others were accepted silently (a walkthrough), where nodes not
    connected to the source warn."""
    from rmab.cli import main
    from rmab.domains import PathDomain, make_path
    from rmab.errors import RmabWarning

    up = np.tile([0.1, 0.8], (3, 1))
    rewards = np.tile([0.0, 0.3, 0.6, 1.0], (3, 1))
    for length, far, verb, need in ((0, "2 of 3", "are", r"\[1, 2\]"),
                                    (1, "2 of 3", "are", r"\[1, 2\]"),
                                    (3, "1 of 3", "is", r"\[2\]")):    # one node: is
        with pytest.warns(RmabWarning, match=fr"^PathDomain: {far} nodes {verb} farther than "
                                             fr"route_length/2 = {length / 2:g} moves from the "
                                             fr"source 0 \(a route returns to it\) and can "
                                             fr"never be pulled: {need}; route_length >= 4 "
                                             fr"reaches them all$"):
            d = PathDomain.from_arrays(up_prob=up, rewards=rewards, edges=[[0, 1], [1, 2]],
                                       budget=2, route_length=length)
        assert d.unreachable.tolist() == ([1, 2] if length < 2 else [2])
        assert not any(d.is_feasible(a) for a in np.eye(3, dtype=int)[d.unreachable])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RmabWarning)
        assert PathDomain.from_arrays(up_prob=up, rewards=rewards, edges=[[0, 1], [1, 2]],
                                      budget=2, route_length=4).unreachable.size == 0
        assert PathDomain.from_arrays(up_prob=up, rewards=rewards, edges=[[0, 1], [1, 2]],
                                      budget=1, source=1).unreachable.size == 0
        # the paper's generator is silent (its draws leave such nodes often), as make_capacity
        assert make_path(20, 1, seed=0).unreachable.size > 0
    # cut off nodes warn as before (not counted again as too far)
    with pytest.warns(RmabWarning, match="not connected") as caught:
        d = PathDomain.from_arrays(up_prob=np.tile([0.1, 0.8], (4, 1)),
                                   rewards=np.tile([0.0, 0.3, 0.6, 1.0], (4, 1)),
                                   edges=[[0, 1], [2, 3]], budget=1)
    assert len(caught) == 1 and d.unreachable.tolist() == [2, 3]
    graph = tmp_path / "ok.csv"
    graph.write_text("u,v\n0,1\n1,2\n2,3\n3,0\n")
    assert main(["generate", "path", "--graph", str(graph), "--budget", "2", "--route-length",
                 "1", "-o", str(tmp_path / "p.npz")]) == 0
    err = capsys.readouterr().err                # counted in the summary, not warned again
    assert "warning" not in err and err.endswith("route length 1 (3 nodes out of its reach; "
                                                 "--route-length 4 reaches them all)\n")


def test_edge_lists_are_checked_on_both_sides_and_ragged_inputs_named(tmp_path):
    """write_edge_list wrote 0.5 as 0, negative nodes, loops and repeats (which the reader then
    refused); read_edge_list took n_nodes='5' or 0 and blamed the file; ragged actions and
    states raised numpy's ValueError (a domains review)."""
    from rmab.domains.graphs import read_edge_list, write_edge_list

    for bad, match in (([[0.5, 1]], "must be node indices \\(integers\\)"),
                       ([[-1, 1]], "must be node indices in"),
                       ([[1, 1]], "must not contain self-loops"),
                       ([[0, 1], [1, 0]], "must not repeat an edge"),
                       ([[0, 1], [2]], "must have shape .* rows of different lengths"),
                       ([], "must hold at least one edge")):
        with pytest.raises(InvalidModelError, match=r"write_edge_list\.edges: " + match):
            write_edge_list(bad, tmp_path / "g.csv")
    assert not (tmp_path / "g.csv").exists()
    path = write_edge_list([[2, 0], [0, 1.0]], tmp_path / "g.csv")
    assert path.read_text() == "u,v\n0,1\n0,2\n"
    for n_nodes in ("5", 0, 2.5):
        with pytest.raises(InvalidParameterError, match=r"read_edge_list\.n_nodes: must be"):
            read_edge_list(path, n_nodes=n_nodes)
    d = make_domain("capacity", 6, 2, seed=0)
    with pytest.raises(InvalidParameterError, match=r"CapacityDomain\.action: must have shape "
                                                    r"\(action_size=6,\); got rows of"):
        d.check_action([[0], [1, 2]])
    with pytest.raises(InvalidParameterError, match=r"CapacityDomain\.states: must have shape "
                                                    r"\(n_arms=6,\); got rows of"):
        d.step([[0], [1, 2]], d.null_action())


def test_compare_domain_replays_with_the_documented_evaluation_seed():
    from rmab.domains.evaluate import compare_domain, evaluate_domain

    got = compare_domain("capacity", n_arms=6, budget=2, seeds=(3,), planners=("myopic",),
                         episodes=3, horizon=4)
    again = evaluate_domain(make_domain("capacity", 6, 2, seed=3), ["myopic"], episodes=3,
                            horizon=4, seed=np.random.SeedSequence([3, 1]))
    np.testing.assert_array_equal(got.rewards, again.rewards)


SPEC_EDGES = {20: 29, 40: 56, 60: 82, 80: 108, 100: 133}    # coRMAB spec §2.4, as written


def test_graph_edge_counts_are_the_specs_numbers():
    """The generator's targets are the spec's London Underground counts, written out here
    (the test above reads them from the module's own table)."""
    assert PAPER_EDGE_COUNTS == SPEC_EDGES
    for n, m in SPEC_EDGES.items():
        assert len(sparse_connected_graph(n, seed=1)) == m


def test_a_path_domains_graph_in_networkx_has_its_distances():
    """``to_networkx`` gives the domain's nodes and edges (a node in no edge kept), and
    networkx's own shortest paths on it equal the domain's ``distances``: an independent
    check of the CSR graph the route search works on."""
    from rmab.domains import PathDomain, make_path
    from rmab.errors import RmabWarning

    up, rewards = np.tile([0.1, 0.8], (5, 1)), np.tile([0.0, 0.3, 0.6, 1.0], (5, 1))
    with pytest.warns(RmabWarning, match="1 of 5 nodes is not connected"):
        cut = PathDomain.from_arrays(up_prob=up, rewards=rewards, edges=[[0, 1], [1, 2], [2, 3],
                                                                         [3, 0]], budget=2)
    for d in (make_path(30, 5, seed=4), cut):
        g = d.to_networkx()
        assert sorted(g.nodes) == list(range(d.n_arms))
        assert sorted(map(sorted, g.edges)) == sorted(map(sorted, d.edges.tolist()))
        want = np.full((d.n_arms, d.n_arms), np.inf)
        for u, lengths in nx.all_pairs_shortest_path_length(g):
            for v, k in lengths.items():
                want[u, v] = k
        np.testing.assert_array_equal(d.distances, want)


def test_generators_draw_the_specs_whole_ranges():
    """Each discrete draw covers its spec range with both ends (the checks above are subset
    checks, blind to an off-by-one in ``integers(lo, hi)``) and each continuous draw stays in
    its range and comes within 10 % of its width of both ends: C ~ U{2..7}, c ~ U{2..6},
    T ~ U{4,5,6} / U{1,2,3}, up-probabilities U[0, 0.2] / U[0.7, 0.9], and the link's
    α ~ U[0.7, 1] / U[0.2, 0.5], b ~ U[1.4, 1.9] / 1, x0 ~ U{9, 10} / U{1, 2} (spec §1, §2)."""
    def covers(x, lo, hi):
        near = 0.1 * (hi - lo)
        return lo <= x.min() <= lo + near and hi - near <= x.max() <= hi

    cap = make_capacity(600, 120, seed=0)
    assert set(cap.capacities) == set(range(2, 8)) and set(cap.costs) == set(range(2, 7))
    t = cap.arms.rewards[:, 3]
    assert set(t[:120]) == {4, 5, 6} and set(t[120:]) == {1, 2, 3}
    assert covers(cap.arms.up_prob[:, 0], 0.0, 0.2) and covers(cap.arms.up_prob[:, 1], 0.7, 0.9)
    d = make_interventions(300, None, 60, seed=0)
    good = np.arange(300) < 60
    assert covers(d.alpha[good], 0.7, 1.0) and covers(d.alpha[~good], 0.2, 0.5)
    assert covers(d.slope[good], 1.4, 1.9) and (d.slope[~good] == 1.0).all()
    assert set(d.x0[good]) == {9, 10} and set(d.x0[~good]) == {1, 2}


def test_every_arms_link_lookup_is_the_specs_formula():
    """README scale (J = 20, N_I = 10, B = 5): each arm's up-probabilities at x = 0, 3, 6, 9
    equal 0.98 α [σ(b x − x0) − σ(−x0)] + 0.01, σ written with math.exp here (the test above
    checks one arm), and x ∈ {0, 3, 6, 9} for every feasible action."""
    import itertools
    import math

    def sig(z):
        return 1.0 / (1.0 + math.exp(-z))

    d = make_interventions(20, 10, 5, seed=3)
    for j in range(20):
        a, b, x0 = float(d.alpha[j]), float(d.slope[j]), float(d.x0[j])
        want = [0.98 * a * (sig(b * x - x0) - sig(-x0)) + 0.01 for x in (0.0, 3.0, 6.0, 9.0)]
        np.testing.assert_allclose(d.arms.up_prob[j], want, rtol=1e-13, atol=0)
    for chosen in itertools.combinations(range(10), 5):
        a = np.zeros(10, dtype=int)
        a[list(chosen)] = 1
        assert set((d.omega @ a).tolist()) <= {0.0, 3.0, 6.0, 9.0}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_arms,budget", [(20, 5), (40, 10), (100, 20)])
def test_the_specs_sizes_build_with_the_first_budget_arms_good(kind, n_arms, budget):
    """Spec §1's sizes J ∈ {20, 40, 100} with B = 5, 10, 20: every domain builds, the first B
    arms carry the good rewards, path routes have L = 2B moves, and multiple interventions
    has N_I = 10 at the README's J = 20, B = 5."""
    d = make_domain(kind, n_arms, budget, seed=0)
    assert d.n_arms == n_arms and d.budget == budget
    r = d.arms.rewards
    np.testing.assert_array_equal(r[:budget, :3], np.tile([0.2, 0.15, 0.1], (budget, 1)))
    np.testing.assert_array_equal(r[budget:, :3], np.tile([0.1, 0.15, 0.2],
                                                          (n_arms - budget, 1)))
    if kind == "path":
        assert d.route_length == 2 * budget
    if kind == "interventions" and n_arms == 20:
        assert d.n_interventions == 10


def test_an_arm_that_never_moves_up_does_not_at_a_uniform_of_zero():
    """Up iff ``u < up_prob``: uniforms lie in [0, 1), so an up-probability of 0 must never
    move the arm up, even at ``u = 0``, and one of 1 always must (``u <= p`` moved a
    never-rising arm up whenever the generator drew an exact 0)."""
    arms = BaseArms([[0.0, 1.0], [0.0, 1.0]], [[0.0, 1.0, 2.0, 3.0]] * 2)
    states = np.array([1, 2])
    u = np.zeros(2)
    assert arms.next_states(states, np.array([0, 0]), u).tolist() == [0, 1]
    assert arms.next_states(states, np.array([1, 1]), u).tolist() == [2, 3]
    almost = np.full(2, np.nextafter(1.0, 0.0))            # the largest uniform below 1
    assert arms.next_states(states, np.array([1, 1]), almost).tolist() == [2, 3]


def test_edge_counts_outside_the_papers_sizes():
    """Outside 20-100 nodes the docstring's round(1.3 n + 3), capped at the complete graph's
    n (n - 1) / 2 edges (K4 at 4 nodes, checked with networkx) and at least a tree's n - 1."""
    for n, m in ((2, 1), (4, 6), (5, 10), (10, 16), (19, 28), (101, 134), (120, 159)):
        assert default_edge_count(n) == m, n
    g = nx.Graph(sparse_connected_graph(4, seed=0).tolist())
    assert nx.is_isomorphic(g, nx.complete_graph(4))

