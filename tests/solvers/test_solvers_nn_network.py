"""ReLUNetwork: numpy forward, torch import, .npz round trip, validation."""

import numpy as np
import pytest

from solvers import SolverInputError
from solvers.nn import ReLUNetwork


def random_net(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return ReLUNetwork(tuple(rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])),
                       tuple(rng.normal(size=o) for o in sizes[1:]))


def test_forward_by_hand():
    net = ReLUNetwork(([[1.0, -1.0], [2.0, 0.0]], [[1.0, 1.0]]), ([0.0, -1.0], [0.5]))
    # x = (1, 2): hidden pre = (-1, 1) -> relu (0, 1) -> out 1.5
    assert net.forward([1.0, 2.0]) == pytest.approx([1.5])
    batch = net.forward(np.array([[1.0, 2.0], [3.0, 0.0]]))
    assert batch.shape == (2, 1) and batch[1, 0] == pytest.approx(3 + 5 + 0.5)
    assert (net.n_inputs, net.n_outputs, net.n_layers, net.hidden_sizes) == (2, 1, 2, (2,))


@pytest.mark.torch
def test_from_torch_matches_torch_forward():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(7, 16), torch.nn.ReLU(),
                                 torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU()),
                                 torch.nn.Linear(8, 1))
    net = ReLUNetwork.from_torch(module)
    x = np.random.default_rng(1).normal(size=(20, 7))
    with torch.no_grad():
        want = module(torch.tensor(x, dtype=torch.float64).float()).double().numpy()
    assert net.forward(x) == pytest.approx(want, abs=1e-5)
    assert net.hidden_sizes == (16, 8)


@pytest.mark.torch
def test_from_torch_rejects_other_layers():
    torch = pytest.importorskip("torch")
    with pytest.raises(SolverInputError,
                       match="must alternate Linear and ReLU.*Tanh at position 1"):
        ReLUNetwork.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh(),
                                                   torch.nn.Linear(2, 1)))
    with pytest.raises(SolverInputError, match="must end with a Linear layer"):
        ReLUNetwork.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()))


def test_save_load_round_trip(tmp_path):
    net = random_net([5, 4, 3, 1])
    path = net.save(tmp_path / "sub" / "q.npz")
    back = ReLUNetwork.load(path)
    x = np.random.default_rng(2).normal(size=(6, 5))
    assert np.array_equal(back.forward(x), net.forward(x))
    assert [p.name for p in path.parent.iterdir()] == ["q.npz"]     # no temporary left behind


@pytest.mark.parametrize("name", ["W0", "b1", "format", "version", "n_layers", "allow_pickle",
                                  "file"])
def test_save_refuses_extra_arrays_under_the_networks_own_names(tmp_path, name):
    """An extra 'W0' silently replaced the first layer's weights (a solvers review)."""
    with pytest.raises(SolverInputError, match=rf"ReLUNetwork\.save\.extra: must not use .*"
                                               rf"\['{name}'\]"):
        random_net([3, 2, 1]).save(tmp_path / "q.npz", extra={name: np.zeros(1)})
    with pytest.raises(SolverInputError, match=r"extra: keys must be strings; got 1"):
        random_net([3, 2, 1]).save(tmp_path / "q.npz", extra={1: np.zeros(1)})
    assert not (tmp_path / "q.npz").exists()


def test_save_refuses_extras_that_load_would_refuse(tmp_path):
    """Python objects are pickled by np.savez, and load (no pickles) then refused the whole
    file: a network saved without complaint could not be read back (a solvers review)."""
    with pytest.raises(SolverInputError, match=r"extra: must be arrays of numbers, bools or "
                                               r"strings; got Python objects under \['meta'\]"):
        random_net([3, 2, 1]).save(tmp_path / "q.npz", extra={"meta": [None, 1]})
    assert not (tmp_path / "q.npz").exists()
    random_net([3, 2, 1]).save(tmp_path / "q.npz", extra={"meta": ["a", "b"], "n": 3})
    ReLUNetwork.load(tmp_path / "q.npz")


def test_meta_is_kept_by_save_and_load(tmp_path):
    """A caller's arrays travel with the weights: a network loaded, saved again or given
    more arrays keeps them (rmab's training record was lost on a re-save: a walkthrough)."""
    net = random_net([3, 2, 1])
    assert net.meta == {}
    tagged = ReLUNetwork(net.weights, net.biases, {"kind": "capacity", "horizon": 4})
    assert not tagged.meta["horizon"].flags.writeable
    path = tagged.save(tmp_path / "q.npz", extra={"horizon": 5, "note": [1.5, 2.0]})
    back = ReLUNetwork.load(path)
    assert sorted(back.meta) == ["horizon", "kind", "note"]
    assert (str(back.meta["kind"]), int(back.meta["horizon"])) == ("capacity", 5)  # extra wins
    again = ReLUNetwork.load(back.save(tmp_path / "again.npz"))
    assert {k: v.tolist() for k, v in again.meta.items()} == \
        {"kind": "capacity", "horizon": 5, "note": [1.5, 2.0]}
    assert int(tagged.meta["horizon"]) == 4                 # save did not change the network
    with pytest.raises(TypeError):
        tagged.meta["other"] = np.array(1)                  # read-only, as the weights
    import copy
    import pickle

    for twin in (pickle.loads(pickle.dumps(tagged)), copy.deepcopy(tagged)):  # to workers
        assert dict(twin.meta) == dict(tagged.meta) and type(twin.meta) is type(tagged.meta)
        assert not any(a.flags.writeable for a in (*twin.weights, *twin.meta.values()))
        np.testing.assert_array_equal(twin.forward(np.ones(3)), tagged.forward(np.ones(3)))
    with pytest.raises(SolverInputError, match=r"ReLUNetwork\.meta: must not use .*\['W0'\]"):
        ReLUNetwork(net.weights, net.biases, {"W0": 1.0})
    with pytest.raises(SolverInputError, match=r"ReLUNetwork\.meta: must be a dict of arrays; "
                                               r"got list"):
        ReLUNetwork(net.weights, net.biases, [("a", 1)])
    with pytest.raises(SolverInputError, match=r"ReLUNetwork\.meta: must be arrays of numbers"):
        ReLUNetwork(net.weights, net.biases, {"a": [None]})


def test_load_errors(tmp_path):
    bad = tmp_path / "other.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(SolverInputError, match="must be a solvers-relu-network file; got "
                                               "'[^']*other.npz'$"):
        ReLUNetwork.load(bad)
    np.savez(bad, __meta__=np.array("{}"))               # what rmab writes, not a network
    with pytest.raises(SolverInputError, match=r"other.npz', an rmab data file \(a domain, "
                                               r"instance or comparison; a network is the "
                                               r"sequoia.npz 'rmab train' writes\)"):
        ReLUNetwork.load(bad)
    with pytest.raises(SolverInputError, match="must be a readable"):
        ReLUNetwork.load(tmp_path / "missing.npz")
    obj = tmp_path / "pickled.npz"
    np.savez(obj, format=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SolverInputError, match="must be a readable"):
        ReLUNetwork.load(obj)                                   # allow_pickle=False refuses
    text = tmp_path / "notes.npz"
    text.write_text("not a network")
    with pytest.raises(SolverInputError, match=r"\(not an \.npz archive\)$") as info:
        ReLUNetwork.load(text)          # numpy's own message would advise allow_pickle
    assert "pickle" not in str(info.value)


@pytest.mark.parametrize("weights, biases, match", [
    ((np.ones((2, 3)), np.ones((1, 3))), (np.ones(2), np.ones(1)),
     r"weights\[1\]: must have 2 columns"),
    ((np.ones((2, 3)),), (np.ones(3),), r"biases\[0\]: must have shape \(2,\)"),
    ((np.ones((2, 3)),), (), "must be one per layer"),
    ((np.full((1, 2), np.nan),), (np.ones(1),), r"weights\[0\]: must be finite; got nan at "
                                                r"index \(0, 0\)$"),
    ((np.ones((2, 2)), np.ones((1, 2))), (np.array([0.0, np.inf]), np.ones(1)),
     r"biases\[0\]: must be finite; got inf at index \(1,\)$"),
    ((np.ones(3),), (np.ones(1),), r"weights\[0\]: must have 2 dimensions"),
])
def test_validation_errors(weights, biases, match):
    with pytest.raises(SolverInputError, match=match):
        ReLUNetwork(weights, biases)


def test_forward_shape_error():
    with pytest.raises(SolverInputError, match=r"forward.x: must have shape \(5,\)"):
        random_net([5, 3, 1]).forward(np.zeros(4))


def test_damaged_files_and_unreal_weights(tmp_path):
    net = ReLUNetwork((np.ones((2, 3)), np.ones((1, 2))), (np.zeros(2), np.zeros(1)))
    data = net.save(tmp_path / "n.npz").read_bytes()
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    np.save(tmp_path / "one.npy", np.zeros(3))
    for name in ("empty.npz", "cut.npz", "one.npy"):
        with pytest.raises(SolverInputError, match="must be a readable"):
            ReLUNetwork.load(tmp_path / name)
    with pytest.raises(SolverInputError, match=r"weights\[0\]: must be an array of real"):
        ReLUNetwork((np.ones((2, 3)) * (1 + 1j), np.ones((1, 2))), (np.zeros(2), np.zeros(1)))
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(SolverInputError, match="must be a file path"):
        net.save(tmp_path / "dir.npz")


def _rewritten(path, out, **changes):
    """The network file at ``path`` with entries replaced, added (``name=array``) or dropped
    (``name=None``)."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    np.savez(out, **{k: v for k, v in arrays.items() if v is not None})
    return out


@pytest.mark.parametrize("changes, match", [
    ({"W2": np.ones((1, 1)), "b2": np.ones(1)}, r"must hold W0\.\.W1 and b0\.\.b1 for "
                                                r"n_layers=2; got \['W0', 'W1', 'W2'"),
    ({"b1": None}, r"must hold W0\.\.W1 and b0\.\.b1"),
    ({"n_layers": np.array(1.5)}, r"n_layers: must be an integer >= 1; got 1\.5"),
    ({"n_layers": np.array([2, 2])}, r"n_layers: must be an integer >= 1; got \[2, 2\]"),
    ({"n_layers": np.array(0)}, r"n_layers: must be an integer >= 1; got 0"),
])
def test_load_refuses_layers_it_would_misread(tmp_path, changes, match):
    """An extra layer (W2 beside n_layers=2) was silently ignored, and n_layers=1.5 read as
    1 (a domain review)."""
    path = random_net([3, 2, 1]).save(tmp_path / "n.npz")
    with pytest.raises(SolverInputError, match=match):
        ReLUNetwork.load(_rewritten(path, tmp_path / "bad.npz", **changes))


@pytest.mark.parametrize("version", [1, 3])
def test_load_checks_declared_sizes_before_allocating(tmp_path, version):
    """A 1 KB file declaring a (10**6, 10**6) layer ended in 'out of memory: 7.28 TiB'; with
    a version-3 header (utf-8) the check skipped it (a review)."""
    import struct
    import zipfile

    path = random_net([3, 2, 1]).save(tmp_path / "n.npz")
    text = repr({"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}).encode()
    size = struct.pack("<H", len(text) + 1) if version == 1 else struct.pack("<I", len(text) + 1)
    header = b"\x93NUMPY" + bytes([version, 0]) + size + text + b"\n"
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["W0.npy"] = header + b"\x00" * 16
    with zipfile.ZipFile(tmp_path / "big.npz", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(SolverInputError, match=r"W0\.npy declares an array of \(1000000, "
                                               r"1000000\) float64"):
        ReLUNetwork.load(tmp_path / "big.npz")


def test_load_counts_the_layers_before_naming_them(tmp_path):
    """n_layers = 2**40 in a 2 KB file built the set of expected names until the process was
    killed (a review of the file loaders)."""
    path = random_net([3, 2, 1]).save(tmp_path / "n.npz")
    with pytest.raises(SolverInputError, match=r"must hold W0\.\.W1099511627775 .* for "
                                               r"n_layers=1099511627776; got \['W0', 'W1'"):
        ReLUNetwork.load(_rewritten(path, tmp_path / "bad.npz", n_layers=np.array(2**40)))


def test_save_follows_a_link_keeps_permissions_and_writes_into_an_open_file(tmp_path):
    """save replaced a symbolic link by a new file of default permissions, where rmab's own
    writes follow the link and keep the mode (a review); an open file takes the archive, the
    caller's atomic write around it."""
    import os
    import stat

    net = random_net([3, 2, 1])
    target = tmp_path / "target.npz"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    assert net.save(link) == link
    assert link.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert np.array_equal(ReLUNetwork.load(target).weights[0], net.weights[0])
    with open(tmp_path / "open.npz", "wb") as fh:
        assert net.save(fh) is fh
    assert np.array_equal(ReLUNetwork.load(tmp_path / "open.npz").biases[1], net.biases[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.npz", "open.npz",
                                                          "target.npz"]   # no temporary left


def test_load_and_save_refuse_what_is_not_a_path_and_leave_a_descriptor_open(tmp_path):
    """load(fd) opened the caller's descriptor, failed with a raw AttributeError ('int' object
    has no attribute 'seek') and closed it; save(3), save(None), save(b'...') were raw
    TypeErrors (a fuzz review). rmab's readers and writers refuse them the same way."""
    import os

    net = random_net([3, 2, 1])
    path = net.save(tmp_path / "net.npz")
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(SolverInputError, match=r"^ReLUNetwork\.load\.path: must be a path "
                                                   r"\(str or os\.PathLike\); got int$"):
            ReLUNetwork.load(fd)
        os.fstat(fd)                                     # still open: EBADF before
    finally:
        os.close(fd)
    for bad, name in ((None, "NoneType"), (bytes(path), "bytes"), (3.5, "float")):
        with pytest.raises(SolverInputError, match=rf"^ReLUNetwork\.load\.path: must be a path "
                                                   rf"\(str or os\.PathLike\); got {name}$"):
            ReLUNetwork.load(bad)
    for bad, name in ((3, "int"), (None, "NoneType"), (bytes(tmp_path / "b.npz"), "bytes")):
        with pytest.raises(SolverInputError, match=rf"^ReLUNetwork\.save\.path: must be a path "
                                                   rf"\(str or os\.PathLike\) or a binary file "
                                                   rf"open for writing; got {name}$"):
            net.save(bad)
    for call in (ReLUNetwork.load, net.save):
        with pytest.raises(SolverInputError, match=r"path: must not contain a NUL character"):
            call(str(tmp_path / "a\0b.npz"))
    for bad in ("net", "net.csv"):           # an archive was written as 'net' (an audit)
        with pytest.raises(SolverInputError, match=r"^ReLUNetwork\.save\.path: must be a path "
                                                   r"ending in \.npz"):
            net.save(tmp_path / bad)
    net.save(tmp_path / "upper.NPZ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz", "upper.NPZ"]
    assert np.array_equal(ReLUNetwork.load(str(path)).weights[0], net.weights[0])


def test_forward_refuses_non_finite_inputs():
    """forward([nan, 1]) returned [nan] without a word (a fuzz review)."""
    net = random_net([2, 3, 1])
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(SolverInputError, match=r"^ReLUNetwork\.forward\.x: must be finite; "
                                                   rf"got {bad} at index \(0,\)$"):
            net.forward([bad, 1.0])
    with pytest.raises(SolverInputError, match=r"must be finite; got nan at index \(1, 0\)$"):
        net.forward([[1.0, 1.0], [np.nan, 1.0]])
