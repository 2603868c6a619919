"""save_instance / load_instance: round trips, no pickle, and every way a file can be bad."""

import io
import json
import re
import zipfile

import numpy as np
import pytest

from rmab.errors import InvalidModelError, RmabError
from rmab.models import (Instance, health_intervention, load_instance, random_instance,
                         save_instance)


def _assert_same(a: Instance, b: Instance):
    assert type(a.arms) is type(b.arms)
    names = ["transitions", "rewards", "costs"] + ([] if a.fully_observed else ["observations"])
    for name in names:
        np.testing.assert_array_equal(getattr(a.arms, name), getattr(b.arms, name))
    np.testing.assert_array_equal(a.initial_belief, b.initial_belief)
    assert (a.budget, a.discount, a.horizon, a.name) == (b.budget, b.discount, b.horizon, b.name)
    assert a.metadata == b.metadata


@pytest.mark.parametrize("make", [
    pytest.param(lambda: health_intervention(15, n_states=3, seed=2), id="health-pomdp"),
    pytest.param(lambda: random_instance(6, 3, 3, None, seed=1, discount=1.0, horizon=12),
                 id="mdp"),
    pytest.param(lambda: random_instance(4, seed=0).replace(
        name="named", metadata={"nested": {"a": [1, 2.5, None]}, "s": "x"}), id="metadata"),
    pytest.param(lambda: random_instance(4, seed=0).replace(   # came back as lists, unequal
        metadata={"pair": (1, 2), "nested": {"t": ((0.5,), "x")}}), id="metadata-tuples"),
])
def test_round_trip(tmp_path, make):
    inst = make()
    path = save_instance(inst, tmp_path / "sub" / "inst.npz")
    assert path == tmp_path / "sub" / "inst.npz" and path.is_file()
    _assert_same(inst, load_instance(path))
    _assert_same(inst, load_instance(str(path)))
    assert [p.name for p in path.parent.iterdir()] == ["inst.npz"]  # no temporary left behind


def test_file_loads_without_pickle(tmp_path):
    inst = health_intervention(5, seed=0)
    path = save_instance(inst, tmp_path / "h.npz")
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"__meta__", "transitions", "observations", "rewards", "costs",
                                   "initial_belief"}
        meta = json.loads(str(data["__meta__"]))
        np.testing.assert_array_equal(data["transitions"], inst.arms.transitions)
    assert meta["format"] == "rmab-instance" and meta["kind"] == "POMDPArms"


def test_save_overwrites_atomically(tmp_path):
    path = tmp_path / "x.npz"
    save_instance(random_instance(3, seed=0), path)
    save_instance(random_instance(5, seed=1), path)
    assert load_instance(path).n_arms == 5


def test_unwritable_output_paths_raise_output_error(tmp_path, monkeypatch):
    from rmab.errors import OutputError
    from rmab.models import storage

    inst = random_instance(3, seed=0)
    (tmp_path / "dir.npz").mkdir()
    (tmp_path / "file").write_text("x")
    for path, what in ((tmp_path / "dir.npz", "it is a directory"),
                       (tmp_path / "file" / "x.npz", "cannot be written there")):
        with pytest.raises(OutputError, match=what):
            save_instance(inst, path)
    # a failing rename (e.g. across devices) leaves no temporary file behind
    def refuse(src, dst):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(storage.os, "replace", refuse)
    with pytest.raises(OutputError, match="cross-device") as info:
        save_instance(inst, tmp_path / "y.npz")
    assert isinstance(info.value, OSError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.npz", "file"]


# ---------------------------------------------------------------- bad files and bad inputs


def _write_npz(path, meta, **arrays):
    with open(path, "wb") as fh:
        np.savez(fh, __meta__=np.array(json.dumps(meta) if not isinstance(meta, str) else meta),
                 **arrays)
    return path


def _good_parts(tmp_path):
    inst = random_instance(3, seed=0)
    path = save_instance(inst, tmp_path / "good.npz")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: np.array(data[k]) for k in data.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    return meta, arrays


def test_missing_file(tmp_path):
    with pytest.raises(RmabError, match=r"load_instance\.path: must be an existing file; got "
                                        r"'.*nope\.npz'"):
        load_instance(tmp_path / "nope.npz")
    with pytest.raises(RmabError, match=r"load_instance\.path: must be an existing file"):
        load_instance(tmp_path)  # a directory


def test_not_a_zip(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(InvalidModelError, match=r"load_instance: .*junk\.npz: not an rmab "
                                                r"instance file"):
        load_instance(path)


def test_plain_npy_is_not_an_instance(tmp_path):
    path = tmp_path / "arr.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(InvalidModelError, match=r"load_instance: .*arr\.npy: not an rmab instance "
                                                r"file: rmab writes \.npz archives, and this "
                                                r"file is none$"):
        load_instance(path)


def test_a_pomdp_file_is_pointed_to_its_reader_not_to_pickles(tmp_path):
    """numpy reads a non-archive as a pickle and advises allow_pickle=True: never pass that on."""
    path = tmp_path / "tiger.POMDP"
    path.write_text("discount: 0.95\nvalues: reward\nstates: 2\nactions: 3\n")
    with pytest.raises(InvalidModelError) as info:
        load_instance(path)
    assert "pickle" not in str(info.value)
    assert str(info.value).endswith("a .POMDP file is read by rmab.read_pomdp (or 'rmab value')")
    batches = tmp_path / "batches.csv"
    batches.write_text("batch_id,arm_id,budget\n")
    with pytest.raises(InvalidModelError, match=r"a CSV of batches is solved by "
                                                r"rmab.solve_batches \(or 'rmab solve'\)$"):
        load_instance(batches)


def test_pickled_object_array_is_refused(tmp_path):
    meta, arrays = _good_parts(tmp_path)
    arrays["transitions"] = np.array([{"evil": 1}], dtype=object)
    path = _write_npz(tmp_path / "obj.npz", meta, **arrays)
    with pytest.raises(InvalidModelError, match=r"load_instance: .*obj\.npz: not an rmab "
                                                r"instance file \(.*pickle"):
        load_instance(path)


def test_zip_with_garbage_member(tmp_path):
    path = tmp_path / "garbage.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("transitions.npy", b"\x93NUMPY garbage")
    with pytest.raises(InvalidModelError, match=r"load_instance: .*garbage\.npz: not an rmab"):
        load_instance(path)


def test_a_member_declaring_a_huge_array_is_refused_before_numpy_allocates_it(tmp_path):
    path = tmp_path / "huge.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**13,)})
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("transitions.npy", header.getvalue() + b"x" * 64)
    with pytest.raises(InvalidModelError, match=r"huge\.npz: not an rmab instance file "
                                                r"\(transitions\.npy declares an array"):
        load_instance(path)


def test_a_decompression_bomb_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    """2 GiB of zeros fit in a 2 MB member; load_comparison inflated it (19 s, 2.2 GB) before
    any check (a review). Scaled down here: 4 MiB of zeros against a 1 MiB threshold."""
    import solvers.npz

    path = save_instance(random_instance(2, seed=0), tmp_path / "i.npz")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        buf = io.BytesIO()
        np.save(buf, np.zeros(2**19))
        zf.writestr("transitions2.npy", buf.getvalue())
    monkeypatch.setattr(solvers.npz, "BOMB_BYTES", 2**20)
    with pytest.raises(InvalidModelError, match=r"transitions2\.npy inflates \d+ bytes to "
                                                r"4194432, refused as a decompression bomb"):
        load_instance(path)


def test_an_entry_the_format_does_not_hold_is_refused(tmp_path):
    path = save_instance(random_instance(2, seed=0), tmp_path / "i.npz")
    with zipfile.ZipFile(path, "a") as zf:
        buf = io.BytesIO()
        np.save(buf, np.zeros(3))
        zf.writestr("junk.npy", buf.getvalue())
    with pytest.raises(InvalidModelError, match=r"holds entries \['junk'\] that "
                                                r"'rmab-instance' does not"):
        load_instance(path)


def test_an_encrypted_member_is_refused(tmp_path):
    """The zip's 'encrypted' flag (one bit) made zipfile raise a RuntimeError, a traceback."""
    path = save_instance(random_instance(2, seed=0), tmp_path / "enc.npz")
    data = bytearray(path.read_bytes())
    i = data.find(b"PK\x01\x02")                       # the first central directory entry
    data[i + 8] |= 1
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidModelError, match=r"enc\.npz: not an rmab instance file"):
        load_instance(path)


def test_wrong_format_tag(tmp_path):
    meta, arrays = _good_parts(tmp_path)
    meta["format"] = "something-else"
    path = _write_npz(tmp_path / "tag.npz", meta, **arrays)
    with pytest.raises(InvalidModelError, match=r"load_instance: .*tag\.npz: format must be "
                                                r"'rmab-instance'; got 'something-else'"):
        load_instance(path)


def test_metadata_not_json(tmp_path):
    _, arrays = _good_parts(tmp_path)
    path = _write_npz(tmp_path / "meta.npz", "{not json", **arrays)
    with pytest.raises(InvalidModelError, match=r"load_instance: .*meta\.npz: metadata not "
                                                r"JSON"):
        load_instance(path)


def test_metadata_json_but_not_an_object(tmp_path):
    _, arrays = _good_parts(tmp_path)
    path = _write_npz(tmp_path / "list.npz", "[1, 2]", **arrays)
    with pytest.raises(InvalidModelError, match=r"load_instance: .*list\.npz: metadata must be "
                                                r"a JSON object; got list"):
        load_instance(path)


def test_unknown_kind(tmp_path):
    meta, arrays = _good_parts(tmp_path)
    meta["kind"] = "Pickle"
    path = _write_npz(tmp_path / "kind.npz", meta, **arrays)
    with pytest.raises(InvalidModelError, match=r"kind must be MDPArms or POMDPArms; got "
                                                r"'Pickle'"):
        load_instance(path)


def test_fully_observed_kind_with_observations(tmp_path):
    """The signals were dropped without a word: the arms read as fully observed."""
    meta, arrays = _good_parts(tmp_path)
    assert "observations" in arrays
    meta["kind"] = "MDPArms"
    path = _write_npz(tmp_path / "kind.npz", meta, **arrays)
    with pytest.raises(InvalidModelError, match=r"kind 'MDPArms' \(fully observed\) must not "
                                                r"have an 'observations' entry"):
        load_instance(path)


@pytest.mark.parametrize("missing", ["observations", "initial_belief"])
def test_missing_array(tmp_path, missing):
    meta, arrays = _good_parts(tmp_path)
    del arrays[missing]
    path = _write_npz(tmp_path / "miss.npz", meta, **arrays)
    with pytest.raises(InvalidModelError, match=rf"load_instance: .*miss\.npz: missing entry "
                                                rf"'{missing}'"):
        load_instance(path)


def test_missing_meta_field(tmp_path):
    meta, arrays = _good_parts(tmp_path)
    del meta["budget"]
    path = _write_npz(tmp_path / "nobudget.npz", meta, **arrays)
    with pytest.raises(InvalidModelError, match=r"missing entry 'budget'"):
        load_instance(path)


@pytest.mark.parametrize("tamper, match", [
    (lambda m, a: a["transitions"].__setitem__((1, 0, 0, 0), 0.9),
     r"POMDPArms\.transitions: rows must sum to 1 .* at arm 1, action 0, state 0"),
    (lambda m, a: a["observations"].__setitem__((2, 1, 0, 1), -0.5),
     r"POMDPArms\.observations: must be non-negative; got .*-0\.5.* at arm 2, action 1"),
    (lambda m, a: a["costs"].__setitem__((0, 0), 1.0),
     r"POMDPArms\.costs: passive action 0 must cost 0; got 1\.0 \(arm 0\)"),
    (lambda m, a: a["initial_belief"].__setitem__((2, 0), 0.0),
     r"Instance\.initial_belief: rows must sum to 1 .* at arm 2"),
    (lambda m, a: a.__setitem__("rewards", a["rewards"][:2]),
     r"POMDPArms\.rewards: must have shape"),
    (lambda m, a: m.__setitem__("budget", -3), r"Instance\.budget: must be >= 0"),
    (lambda m, a: m.__setitem__("discount", 1.0), r"Instance\.horizon: must be set when discount"),
    (lambda m, a: m.__setitem__("metadata", [1, 2]), r"Instance\.metadata: must be a mapping"),
])
def test_tampered_file_fails_validation(tmp_path, tamper, match):
    meta, arrays = _good_parts(tmp_path)
    tamper(meta, arrays)
    path = _write_npz(tmp_path / "tampered.npz", meta, **arrays)
    with pytest.raises(InvalidModelError, match=match):
        load_instance(path)
    # the file is named, as load_domain's errors name theirs: 'rmab compare x.npz' said
    # 'Instance.budget: must be >= 0.0; got -3.0', as if of a flag (a data-layer review)
    with pytest.raises(InvalidModelError, match="^" + re.escape(f"load_instance: {path}: ")):
        load_instance(path)


def test_save_and_instance_reject_non_instance_and_unserialisable_metadata(tmp_path):
    with pytest.raises(InvalidModelError, match=r"save_instance\.instance: must be an Instance; "
                                                r"got POMDPArms"):
        save_instance(random_instance(3, seed=0).arms, tmp_path / "a.npz")
    # refused when the instance is made, not at the end of a run when it is saved
    base = random_instance(3, seed=0)
    for meta, what in [({"when": object()}, "object"), ({"n": np.int64(3)}, "int64"),
                       ({"nested": [{1: "a", "1": "b"}]}, "keys must be strings; got 1"),
                       ({"nested": [{"x": float("nan")}]}, "Out of range float values")]:
        with pytest.raises(InvalidModelError, match=r"Instance\.metadata: must be JSON-"
                                                    r"serialisable .*" + what):
            base.replace(metadata=meta)
    base.metadata["n"] = np.int64(3)       # changed in place after the check: save refuses it
    with pytest.raises(InvalidModelError, match=r"Instance\.metadata: must be JSON-serialisable"):
        save_instance(base.replace(budget=2.0), tmp_path / "c.npz")
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left


def test_metadata_nested_too_deep_for_json_is_not_json(tmp_path):
    """A review's file: a RecursionError traceback from the CLI."""
    _, arrays = _good_parts(tmp_path)
    path = _write_npz(tmp_path / "deep.npz", '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}",
                      **arrays)
    with pytest.raises(InvalidModelError, match="metadata not JSON"):
        load_instance(path)


def test_paths_with_nul_and_long_names(tmp_path):
    """A NUL reached tempfile as a bare ValueError; a 240-character name, valid on its own,
    was refused because the temporary file's name added 15 characters."""
    from rmab.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="save_instance.path: must not contain a "
                                                    "NUL character"):
        save_instance(random_instance(2, seed=0), str(tmp_path / "a\0b.npz"))
    for name in ("x" * 240 + ".npz", "\u5b57" * 80 + ".npz"):     # 244 and 244 bytes
        path = save_instance(random_instance(2, seed=0), tmp_path / name)
        _assert_same(random_instance(2, seed=0), load_instance(path))


def test_a_path_with_a_carriage_return_is_refused_as_a_files_text(tmp_path):
    """A lone '\\r' breaks lines as '\\n' does (str.splitlines, old Mac files): a path
    holding one is refused like a file's text, not written under a name with a line break."""
    from rmab.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=r"save_instance\.path: must be a path, not "
                                                    r"a file's contents; got text of 2 lines"):
        save_instance(random_instance(2, seed=0), str(tmp_path / "a\rb.npz"))
    assert list(tmp_path.iterdir()) == []


def test_loaded_bytes_roundtrip_through_buffer(tmp_path):
    """The file is a plain zip of .npy members (readable by any npz reader)."""
    path = save_instance(random_instance(2, seed=0), tmp_path / "z.npz")
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
        raw = zf.read("costs.npy")
    assert names == sorted(["__meta__.npy", "transitions.npy", "observations.npy", "rewards.npy",
                            "costs.npy", "initial_belief.npy"])
    np.testing.assert_array_equal(np.load(io.BytesIO(raw), allow_pickle=False),
                                  [[0.0, 1.0], [0.0, 1.0]])


def test_missing_folders_are_created_and_removed_again_on_failure(tmp_path):
    from rmab.models.storage import atomic_write

    deep = tmp_path / "a" / "b" / "out.csv"
    with atomic_write(deep) as tmp:
        tmp.write_text("x")
    assert deep.read_text() == "x"                       # `make compare` relies on this
    other = tmp_path / "c" / "d" / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_write(other) as tmp:
            tmp.write_text("half")
            raise RuntimeError("the writer failed")
    assert not (tmp_path / "c").exists()                 # nothing left behind


def test_a_newer_version_is_refused(tmp_path):
    """A version 99 file loaded silently (the shared reader did not look at the version)."""
    path = save_instance(health_intervention(3, seed=0), tmp_path / "h.npz")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    np.savez(tmp_path / "v99.npz", __meta__=np.array(json.dumps({**meta, "version": 99})),
             **arrays)
    with pytest.raises(InvalidModelError, match="must be a version 1 file; got version 99"):
        load_instance(tmp_path / "v99.npz")


def test_a_replaced_file_keeps_its_permissions_and_links_are_followed(tmp_path):
    """A decisions file kept private (0600) stayed private only until the next run, and a
    symbolic link was replaced by a plain file, leaving its target stale."""
    import os
    import stat

    from rmab.models.storage import atomic_write

    private = tmp_path / "private.csv"
    private.write_text("old")
    os.chmod(private, 0o600)
    with atomic_write(private) as tmp:
        tmp.write_text("new")
    assert private.read_text() == "new"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old")
    link.symlink_to(real)
    with atomic_write(link) as tmp:
        tmp.write_text("new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_write_error_inside_is_an_output_error_and_nothing_is_left(tmp_path):
    """A full disk while writing raised a raw OSError (a traceback on the command line)."""
    import errno

    from rmab.errors import OutputError
    from rmab.models.storage import atomic_write

    out = tmp_path / "out.csv"
    with pytest.raises(OutputError, match="out.csv: cannot be written there; .*No space"):
        with atomic_write(out):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_sigterm_while_writing_removes_the_output_being_written(tmp_path, name, code):
    """``kill`` (SLURM, docker stop) or a closed ssh session (SIGHUP, a CSV review) left a
    temporary file beside the output; during a write it now exits with 128 + the signal
    through the normal unwinding. Outside writes the signal keeps its default (a Python
    handler would wait for a long computation in C)."""
    import signal

    sig = getattr(signal, name)
    outer = signal.signal(sig, signal.SIG_DFL)      # nohup or a runner may have set another
    try:
        _exits_through_unwinding(tmp_path, sig, code)
    finally:
        signal.signal(sig, outer)


def _exits_through_unwinding(tmp_path, sig, code):
    import os
    import signal

    from rmab.models.storage import atomic_write

    before = signal.getsignal(sig)
    with pytest.raises(SystemExit) as info:
        with atomic_write(tmp_path / "out.csv") as tmp:
            assert signal.getsignal(sig) is not before
            tmp.write_text("half")
            os.kill(os.getpid(), sig)
    assert info.value.code == code and list(tmp_path.iterdir()) == []
    assert signal.getsignal(sig) is before
    with atomic_write(tmp_path / "ok.csv") as tmp:
        tmp.write_text("done")
    assert signal.getsignal(sig) is before


def test_sigterm_handled_elsewhere_is_left_alone(tmp_path):
    import signal

    from rmab.models.storage import atomic_write

    def mine(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with atomic_write(tmp_path / "out.csv") as tmp:
            assert signal.getsignal(signal.SIGTERM) is mine
            tmp.write_text("x")
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_output_error_names_the_output_not_the_temporary_file(tmp_path, monkeypatch):
    """It showed the temporary file's name ('/proc/.x.csv.rt36fwvm.tmp')."""
    from rmab.errors import OutputError
    from rmab.models import storage

    def refuse(prefix, suffix, dir):
        raise PermissionError(13, "Permission denied", f"{dir}/{prefix}abc{suffix}")

    monkeypatch.setattr(storage.tempfile, "mkstemp", refuse)
    for out in (tmp_path / "x.csv", tmp_path / ("x" * 150 + ".csv")):   # prefix cut at 100
        with pytest.raises(OutputError) as info:
            with storage.atomic_write(out, ".csv"):
                pass
        assert str(info.value) == f"{out}: cannot be written there; Permission denied"
    monkeypatch.undo()
    (tmp_path / "afile").write_text("x")      # a file where a folder should be is named
    for out in (tmp_path / "afile" / "x.npz", tmp_path / "afile" / "sub" / "x.npz"):
        with pytest.raises(OutputError) as info:
            with storage.atomic_write(out):
                pass
        assert str(info.value) == (f"{out}: cannot be written there; {tmp_path / 'afile'} is "
                                   f"a file, not a folder")     # it had been "[Errno 17] ..."


def test_a_written_file_is_synced_before_it_replaces_the_old_one(tmp_path, monkeypatch):
    """After a power cut the output is the old file or the whole new one, never empty."""
    import os

    from rmab.models.storage import atomic_write

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"),
                                                     real_replace(a, b))[1])
    with atomic_write(tmp_path / "out.csv") as tmp:
        tmp.write_text("a,b\n")
    assert events[:2] == ["fsync", "replace"]
    assert (tmp_path / "out.csv").read_text() == "a,b\n"
