"""Construction from arrays, .npz round trip, edge-list CSV reading, and their error paths."""

import json
import pathlib

import numpy as np
import pytest

from rmab.domains import (CapacityDomain, InterventionsDomain, PathDomain, SchedulingDomain,
                          load_domain, make_domain, path_from_csv, read_edge_list, save_domain,
                          write_edge_list)
from rmab.errors import BatchInputError, InvalidModelError, InvalidParameterError, RmabWarning

KINDS = ["interventions", "capacity", "scheduling", "path"]
DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "graph_example.csv"


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_and_from_arrays(kind, tmp_path):
    d = make_domain(kind, 15, 4, seed=9)
    path = save_domain(d, tmp_path / f"{kind}.npz")
    e = load_domain(path)
    assert type(e) is type(d) and e.budget == d.budget
    np.testing.assert_array_equal(e.arms.up_prob, d.arms.up_prob)
    np.testing.assert_array_equal(e.arms.rewards, d.arms.rewards)
    f = type(d).from_arrays(**d.to_arrays())
    states = np.random.default_rng(0).integers(0, 4, 15)
    for other in (e, f):
        for seed in range(5):
            a = d.sample_action(seed)
            assert other.is_feasible(a)
            assert other.expected_reward(states, a) == d.expected_reward(states, a)
    # the file is plain: arrays + JSON, readable without rmab and without pickle
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__meta__"]))
        assert meta["kind"] == kind and meta["format"] == "rmab-domain"
        assert all(data[k].dtype != object for k in data.files)


def test_load_errors(tmp_path):
    with pytest.raises(InvalidParameterError, match="load_domain.path: must be an existing"):
        load_domain(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InvalidModelError, match="not an rmab domain file"):
        load_domain(bad)
    other = tmp_path / "other.npz"
    np.savez(other, __meta__=np.array(json.dumps({"format": "x"})))
    with pytest.raises(InvalidModelError, match="format must be 'rmab-domain'"):
        load_domain(other)
    from solvers.nn import ReLUNetwork
    ReLUNetwork((np.ones((1, 2)),), (np.zeros(1),)).save(tmp_path / "net.npz")
    with pytest.raises(InvalidModelError, match=r"no metadata entry; a trained network: give "
                                                r"it as 'rmab compare --network'"):
        load_domain(tmp_path / "net.npz")
    for entries in ({"x": np.zeros(2)}, {"format": np.array([{"a": 1}], dtype=object)}):
        np.savez(other, **entries)           # an object array: no pickle, still a typed error
        with pytest.raises(InvalidModelError, match=r"\(no metadata entry\)"):
            load_domain(other)
    from rmab.models import health_intervention, load_instance, save_instance
    inst = save_instance(health_intervention(3, seed=0), tmp_path / "inst.npz")
    with pytest.raises(InvalidModelError, match=r"got 'rmab-instance' \(an instance: load it "
                                                r"with rmab.load_instance, or give it to "
                                                r"'rmab compare', 'bound' or 'index'\)"):
        load_domain(inst)
    dom = save_domain(make_domain("capacity", 4, 1, seed=0), tmp_path / "dom.npz")
    with pytest.raises(InvalidModelError, match=r"got 'rmab-domain' \(a coRMAB domain: load "
                                                r"it with rmab.domains.load_domain, or 'rmab "
                                                r"compare --domain-file' it\)"):
        load_instance(dom)
    kind = tmp_path / "kind.npz"
    np.savez(kind, __meta__=np.array(json.dumps({"format": "rmab-domain", "kind": "taxi"})))
    with pytest.raises(InvalidModelError, match="domain.kind: must be one of"):
        load_domain(kind)
    with pytest.raises(InvalidParameterError, match="save_domain.domain: must be a Domain"):
        save_domain("capacity", tmp_path / "x.npz")
    listed = tmp_path / "listed.npz"
    np.savez(listed, __meta__=np.array(json.dumps({"format": "rmab-domain", "kind": ["path"]})))
    with pytest.raises(InvalidModelError, match="domain.kind: must be one of"):
        load_domain(listed)
    newer = tmp_path / "newer.npz"
    np.savez(newer, __meta__=np.array(json.dumps({"format": "rmab-domain", "kind": "path",
                                                  "version": 99})))
    with pytest.raises(InvalidModelError, match="must be a version 1 file; got version 99"):
        load_domain(newer)
    with pytest.raises(InvalidModelError, match=r"edges: must be node indices in \[0, 3\); got "
                                                r"\[0.0, 1e\+20\]"):
        PathDomain.from_arrays(up_prob=np.full((3, 2), 0.5), rewards=np.ones((3, 4)),
                               edges=[[0.0, 1e20]], budget=1)
    with pytest.raises(InvalidModelError, match=r"must be node indices in \[0, 3\); got "
                                                r"\[0, 18446744073709551615\]"):
        PathDomain.from_arrays(up_prob=np.full((3, 2), 0.5), rewards=np.ones((3, 4)),
                               edges=np.array([[0, 2**64 - 1]], dtype=np.uint64), budget=1)
    # damaged files: empty, truncated, a flipped byte in the compressed data
    good = save_domain(make_domain("path", 6, 2, seed=0), tmp_path / "good.npz")
    data = good.read_bytes()
    for name, content in (("empty.npz", b""), ("cut.npz", data[: len(data) // 2]),
                          ("flip.npz", data[:67] + bytes([data[67] ^ 0xFF]) + data[68:])):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InvalidModelError):
            load_domain(tmp_path / name)


def test_make_domain_kind_must_be_a_name():
    with pytest.raises(InvalidParameterError, match="make_domain.kind: must be one of"):
        make_domain(["capacity"])


UP = [[0.1, 0.8]] * 3
REW = [[0.1, 0.15, 0.2, 1.0]] * 3


def test_from_arrays_errors():
    with pytest.raises(InvalidModelError, match=r"InterventionsDomain.omega: must be 0 or 3; got "
                                                r"2.0 for intervention 1 \(arm 0\)"):
        InterventionsDomain.from_arrays(omega=[[0, 2], [3, 0]], alpha=[1, 1], slope=[1, 1],
                                        x0=[1, 1], rewards=REW[:2], budget=1)
    with pytest.raises(InvalidModelError, match="at most 3 non-zero weights per arm"):
        InterventionsDomain.from_arrays(omega=[[3, 3, 3, 3]], alpha=[1], slope=[1], x0=[1],
                                        rewards=REW[:1], budget=1)
    with pytest.raises(InvalidModelError, match=r"InterventionsDomain.budget: must be <= 2"):
        InterventionsDomain.from_arrays(omega=[[3, 0]], alpha=[1], slope=[1], x0=[1],
                                        rewards=REW[:1], budget=3)
    with pytest.raises(InvalidModelError, match=r"InterventionsDomain.alpha: must lie in"):
        InterventionsDomain.from_arrays(omega=[[3, 0]], alpha=[1.2], slope=[1], x0=[1],
                                        rewards=REW[:1], budget=1)
    with pytest.raises(InvalidModelError, match=r"CapacityDomain.costs: must be > 0; got 0.0 "
                                                r"\(arm 1\)"):
        CapacityDomain.from_arrays(up_prob=UP, rewards=REW, costs=[1, 0, 2], capacities=[3])
    with pytest.raises(InvalidModelError, match=r"CapacityDomain.up_prob: must have shape "
                                                r"\(n_arms, 2\)"):
        CapacityDomain.from_arrays(up_prob=[[0.1, 0.2, 0.3]] * 3, rewards=REW, costs=[1, 1, 1],
                                   capacities=[3])
    with pytest.raises(InvalidModelError, match=r"SchedulingDomain.arm_avail: must contain "
                                                r"only 0/1"):
        SchedulingDomain.from_arrays(up_prob=UP, rewards=REW, arm_avail=[[1, 2]] * 3,
                                     worker_avail=[[1, 1]])
    with pytest.raises(InvalidModelError, match=r"SchedulingDomain.worker_avail: must be a 2-D "
                                                r"0/1 array of shape \(n_workers, n_slots=2\)"):
        SchedulingDomain.from_arrays(up_prob=UP, rewards=REW, arm_avail=[[1, 0]] * 3,
                                     worker_avail=[[1, 1, 1]])
    with pytest.raises(InvalidModelError, match=r"PathDomain.edges: must be node indices in "
                                                r"\[0, 3\); got \[1, 3\] \(edge 1\)"):
        PathDomain.from_arrays(up_prob=UP, rewards=REW, edges=[[0, 1], [1, 3]], budget=1)
    with pytest.raises(InvalidModelError, match=r"SchedulingDomain.arm_avail: must be a 2-D "
                                                r"0/1 array; got rows of different lengths"):
        SchedulingDomain.from_arrays(up_prob=UP, rewards=REW, arm_avail=[[1, 0], [1], [0, 1]],
                                     worker_avail=[[1, 1]])
    with pytest.raises(InvalidModelError, match=r"PathDomain.edges: must have shape \(n_edges, "
                                                r"2\); got rows of different lengths"):
        PathDomain.from_arrays(up_prob=UP, rewards=REW, edges=[[0, 1], [1, 2, 0]], budget=1)
    with pytest.raises(InvalidModelError, match=r"PathDomain.edges: must not repeat an edge"):
        PathDomain.from_arrays(up_prob=UP, rewards=REW, edges=[[0, 1], [1, 0]], budget=1)
    with pytest.raises(InvalidModelError, match=r"CapacityDomain.costs: must be an array of "
                                                r"numbers"):
        CapacityDomain.from_arrays(up_prob=UP, rewards=REW, costs=[1 + 5j, 2, 3], capacities=[3])
    with pytest.raises(InvalidModelError, match=r"up_prob: must be an array of numbers"):
        CapacityDomain.from_arrays(up_prob=[["0.1", "0.8"]] * 3, rewards=REW, costs=[1, 2, 3],
                                   capacities=[3])
    with pytest.raises(InvalidModelError,
                       match=r"PathDomain.source: must be a node index in \[0, 3\); got 5"):
        PathDomain.from_arrays(up_prob=UP, rewards=REW, edges=[[0, 1]], budget=1, source=5)


def test_edge_list_csv_round_trip(tmp_path):
    edges, n = read_edge_list(DATA)
    assert n == 20 and len(edges) == 29
    out = write_edge_list(edges, tmp_path / "g.csv")
    again, n2 = read_edge_list(out)
    np.testing.assert_array_equal(again, edges)
    with pytest.warns(RmabWarning, match=r"2 of 20 nodes are farther than route_length/2 = "
                                         r"5 moves .*: \[2, 14\]; route_length >= 12") as w:
        d = path_from_csv(DATA, budget=5, seed=0)
    assert [x.filename for x in w] == [__file__]             # the caller's line, not path.py
    import warnings

    with warnings.catch_warnings(record=True) as caught:    # shown once per line, as any
        warnings.simplefilter("default")                     # warning (a re-warn showed each)
        for _ in range(3):
            path_from_csv(DATA, budget=5, seed=0)
    assert len(caught) == 1
    assert d.n_arms == 20 and d.route_length == 10
    assert all(d.is_feasible(d.sample_action(s)) for s in range(10))


@pytest.mark.parametrize("text, match, line", [
    ("a,b\n0,1\n", r"header: must be 'u,v'; got 'a,b'", 1),
    ("u,v\n0,1\n1,2,3\n", r"must have 2 columns \(u, v\); got 3", 3),
    ("u,v\n# comment\n0,x\n", r"column 'v': read_edge_list.v: must be a node index "
                              r"\(integer >= 0, digits 0-9 only\); got 'x'", 3),
    ("u,v\n0,1\n-1,2\n", r"read_edge_list.u: must be a node index .*; got '-1'", 3),
    ("u,v\n0,1\n1_0,2\n", r"read_edge_list.u: must be .* digits 0-9 only\); got '1_0'", 3),
    ("u,v\n0,1\n+1,2\n", r"read_edge_list.u: must be .* digits 0-9 only\); got '\+1'", 3),
    ("u,v\n0,1\n1,\u0662\n", r"read_edge_list.v: must be .* digits 0-9 only\)", 3),
    ("u,v\n0,1\n1,100000000000000000000\n", r"read_edge_list.v: must be a node index in "
                                            r"\[0, 10000\) .*; got 100000000000000000000", 3),
    ("u,v\n0,1\n1," + "9" * 5000 + "\n", r"read_edge_list.v: must be a node index in "
                                           r"\[0, 10000\) .*; got 9{37}\.\.\.$", 3),
    ("u,v\n0,1\n1,0000000000000000000002\n1,2\n", r"must not repeat an edge; 1-2 already on "
                                                  r"line 3", 4),   # zeros: still node 2
    ("u,v\n0,1\n\n2,2\n", r"must not be a self-loop; got 2,2", 4),
    ("u,v\n0,1\n1,2\n1,0\n", r"must not repeat an edge; 0-1 already on line 2", 4),
])
def test_edge_list_errors_name_the_line(tmp_path, text, match, line):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(BatchInputError, match=match) as info:
        read_edge_list(path)
    assert info.value.line == line and f"line {line}" in str(info.value)


def test_edge_list_other_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("u,v\n")
    with pytest.raises(BatchInputError, match="at least one edge"):
        read_edge_list(empty)
    with pytest.raises(InvalidParameterError, match="read_edge_list.path: must be an existing"):
        read_edge_list(tmp_path / "nope.csv")
    small = tmp_path / "small.csv"
    small.write_text("u,v\n0,1\n1,5\n")
    with pytest.raises(BatchInputError, match=r"must be a node index in \[0, 4\); got 5"):
        read_edge_list(small, n_nodes=4)
    latin = tmp_path / "latin.csv"                    # was a UnicodeDecodeError traceback
    latin.write_bytes(b"u,v\n0,1\n1,2\xe9\n")
    with pytest.raises(BatchInputError, match="must be UTF-8 text; got byte 0xe9") as info:
        read_edge_list(latin)
    assert info.value.line == 3
    archive = save_domain(make_domain("capacity", 4, 1, seed=0), tmp_path / "d.npz")
    with pytest.raises(BatchInputError, match=r"must be an edge-list CSV .*zip archive"):
        read_edge_list(archive)
    quote = tmp_path / "quote.csv"
    quote.write_text('u,v\n0,"1\n')
    with pytest.raises(BatchInputError, match="must be well-formed CSV"):
        read_edge_list(quote)


@pytest.mark.parametrize("raw, line", [
    (b"\xef\xbb\xbfu,v\n0,1\n\n\xe9,2\n", 4),         # after a BOM: named 3 bytes early
    (b"u,v\r0,1\r1,\xe9\r", 3),                        # CR line ends: was line 1
])
def test_edge_list_non_utf8_byte_named_with_its_line(tmp_path, raw, line):
    path = tmp_path / "bad.csv"
    path.write_bytes(raw)
    with pytest.raises(BatchInputError, match=r"must be UTF-8 text; got byte 0xe9") as info:
        read_edge_list(path)
    assert info.value.line == line


def test_edge_list_empty_rows_are_blank_and_an_unreadable_file_is_an_error(tmp_path,
                                                                           monkeypatch):
    """A spreadsheet writes an empty row as ',': blank, as in the batch CSVs; an unreadable
    file raised a bare OSError (a review of the file loaders)."""
    path = tmp_path / "e.csv"
    for blank in (",", "   ", " , "):
        path.write_text(f"u,v\n0,1\n{blank}\n1,2\n")
        assert read_edge_list(path)[0].tolist() == [[0, 1], [1, 2]]

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "read_bytes", refuse)
    with pytest.raises(InvalidParameterError, match=r"read_edge_list\.path: must be a readable "
                                                    r"file; got .*e\.csv' \(Permission denied\)"):
        read_edge_list(path)


UP5 = [[0.1, 0.8]] * 5
REW5 = [[0.1, 0.15, 0.2, 1.0]] * 5


@pytest.mark.parametrize("build, message", [
    # the rows of arm_avail are the arms: '(rows, n_slots)' did not say so (a walkthrough)
    (lambda: SchedulingDomain.from_arrays(up_prob=UP5, rewards=REW5, arm_avail=np.ones((3, 5)),
                                          worker_avail=np.ones((2, 5))),
     "SchedulingDomain.arm_avail: must be a 2-D 0/1 array of shape (n_arms=5, n_slots); got "
     "shape (3, 5)"),
    (lambda: SchedulingDomain.from_arrays(up_prob=UP5, rewards=REW5, arm_avail=np.ones(5),
                                          worker_avail=np.ones((2, 5))),
     "SchedulingDomain.arm_avail: must be a 2-D 0/1 array of shape (n_arms=5, n_slots); got "
     "shape (5,)"),
    (lambda: SchedulingDomain.from_arrays(up_prob=UP5, rewards=REW5, arm_avail=np.ones((5, 4)),
                                          worker_avail=np.ones((2, 5))),
     "SchedulingDomain.worker_avail: must be a 2-D 0/1 array of shape (n_workers, n_slots=4); "
     "got shape (2, 5)"),
    # 'must have 1 dimensions' named neither the arms nor their number
    (lambda: CapacityDomain.from_arrays(up_prob=UP5, rewards=REW5, costs=np.ones((5, 1)),
                                        capacities=[3]),
     "CapacityDomain.costs: must have shape (n_arms=5,); got (5, 1)"),
    (lambda: CapacityDomain.from_arrays(up_prob=UP5, rewards=REW5, costs=np.ones(5),
                                        capacities=np.ones((2, 2))),
     "CapacityDomain.capacities: must have shape (n_workers,); got (2, 2)"),
    (lambda: InterventionsDomain.from_arrays(omega=np.zeros((5, 3)), alpha=np.ones((5, 1)),
                                             slope=np.ones(5), x0=np.ones(5), rewards=REW5,
                                             budget=1),
     "InterventionsDomain.alpha: must have shape (n_arms=5,); got (5, 1)"),
    (lambda: InterventionsDomain.from_arrays(omega=np.zeros(5), alpha=np.ones(5),
                                             slope=np.ones(5), x0=np.ones(5), rewards=REW5,
                                             budget=1),
     "InterventionsDomain.omega: must have shape (n_arms >= 1, n_interventions >= 1); got "
     "(5,)"),
])
def test_from_arrays_shape_errors_name_the_expected_shape(build, message):
    with pytest.raises(InvalidModelError) as info:
        build()
    assert str(info.value) == message


def _rewrite(path, out, **changes):
    """The domain file ``path`` with some entries changed (arrays, or scalars in the meta)."""
    with np.load(path, allow_pickle=False) as data:
        entries = {k: data[k] for k in data.files}
    meta = json.loads(str(entries["__meta__"]))
    for key, value in changes.items():
        if key in meta["scalars"]:
            meta["scalars"][key] = value
        else:
            entries[key] = value
    entries["__meta__"] = np.array(json.dumps(meta))
    np.savez(out, **entries)
    return out


@pytest.mark.parametrize("kind, changes, message", [
    ("capacity", lambda a: {"costs": a["costs"][:3]},
     "CapacityDomain.costs: must have shape (n_arms=8,); got (3,)"),
    ("interventions", lambda a: {"alpha": a["alpha"] + 2},
     "InterventionsDomain.alpha: must lie in [0, 1]; got "),
    ("scheduling", lambda a: {"arm_avail": a["arm_avail"][:2]},
     "SchedulingDomain.arm_avail: must be a 2-D 0/1 array of shape (n_arms=8, n_slots); got "
     "shape (2, 5)"),
    ("path", lambda a: {"source": 99}, "PathDomain.source: must be a node index in [0, 8); got 99"),
    ("path", lambda a: {"up_prob": a["up_prob"][:, :1]},
     "BaseArms.up_prob: must have shape (n_arms >= 1, n_levels >= 2); got (8, 1)"),
])
def test_load_errors_from_the_domain_name_the_file(kind, changes, message, tmp_path):
    """A truncated 'costs' said 'CapacityDomain.costs: must have shape ...' with no file,
    where the reader's errors say 'load_domain: FILE: ...' (a walkthrough)."""
    good = save_domain(make_domain(kind, 8, 2, seed=0), tmp_path / "good.npz")
    bad = _rewrite(good, tmp_path / "t2.npz", **changes(make_domain(kind, 8, 2,
                                                                    seed=0).to_arrays()))
    with pytest.raises(InvalidModelError) as info:
        load_domain(bad)
    assert str(info.value).startswith(f"load_domain: {bad}: {message}"), str(info.value)
    assert type(info.value) is InvalidModelError and info.value.__cause__ is not None


def _generate(tmp_path, text, *argv):
    from rmab.cli import main

    graph = tmp_path / "ok.csv"
    graph.write_text(text)
    code = main(["generate", "path", "--graph", str(graph), "-o", str(tmp_path / "p.npz"),
                 *argv])
    return code, graph


SQUARE = "u,v\n0,1\n1,2\n2,3\n3,0\n"


@pytest.mark.parametrize("argv, message", [
    # the default budget, said as without --graph ('path_from_csv.budget: must be <= 4; got 5'
    # named a budget the user never gave: a walkthrough)
    ([], "generate.budget: the default budget 5 exceeds the graph's 4 nodes ({graph}); pass "
         "--budget B with B <= 4"),
    (["--arms", "4"], "generate.budget: the default budget 5 exceeds the graph's 4 nodes "
                      "(--arms 4); pass --budget B with B <= 4"),
    # the user's own mistakes first, not hidden by the default budget
    (["--source", "7"], "PathDomain.source: must be a node index in [0, 4); got 7"),
    (["--route-length", "-1"], "PathDomain.route_length: must be >= 0; got -1"),
    (["--arms", "3"], "read_edge_list.v: must be a node index in [0, 3); got 3"),
    (["--budget", "2", "--source", "7"],
     "PathDomain.source: must be a node index in [0, 4); got 7"),
    (["--budget", "2", "--route-length", "-1"], "PathDomain.route_length: must be >= 0; got -1"),
    (["--budget", "9"], "path_from_csv.budget: must be <= 4; got 9"),
])
def test_generate_on_a_small_graph_names_the_default_budget_last(argv, message, tmp_path,
                                                                  capsys):
    code, graph = _generate(tmp_path, SQUARE, *argv)
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("rmab: error: ")
    assert message.format(graph=graph) in err and "warning" not in err, err
    assert not (tmp_path / "p.npz").exists()


def test_path_from_csv_checks_the_source_and_route_before_the_budget(tmp_path):
    graph = tmp_path / "ok.csv"
    graph.write_text(SQUARE)
    with pytest.raises(InvalidModelError,
                       match=r"^PathDomain.source: must be a node index in \[0, 4\); got 7$"):
        path_from_csv(graph, source=7)                     # the default budget 5 > 4 nodes
    with pytest.raises(InvalidModelError, match=r"^PathDomain.route_length: must be >= 0; got "
                                                r"-1$"):
        path_from_csv(graph, route_length=-1)
    with pytest.raises(InvalidParameterError, match=r"path_from_csv.budget: must be <= 4; got "
                                                    r"5"):
        path_from_csv(graph)
