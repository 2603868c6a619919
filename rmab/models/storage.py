"""Save and load instances as one ``.npz`` file: arrays plus a JSON metadata string.

Nothing is pickled: the file is read with ``allow_pickle=False`` and the metadata with
:func:`json.loads`, so a file from an untrusted source cannot run code.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import tempfile
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np

from rmab._validation import check_path, json_text
from rmab.errors import (InvalidModelError, InvalidParameterError, OutputError, RmabError,
                         raise_in)
from rmab.models.arms import MDPArms, POMDPArms
from rmab.models.instance import Instance
from solvers.nn.network import FORMAT as NETWORK_FORMAT
from solvers.npz import check_sizes

__all__ = ["save_instance", "load_instance", "atomic_write", "check_writable", "write_archive",
           "read_archive"]

FORMAT = "rmab-instance"
VERSION = 1


_EXIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                      if hasattr(signal, name))      # no SIGHUP on Windows


class atomic_write:
    """Context manager yielding a temporary path beside ``path``; on success it is renamed onto
    ``path`` (atomic on POSIX), on error removed, so no half-written file is ever left. Missing
    parent folders are created, and removed again if the write fails. A path that cannot be
    written (a directory or device there, no permission, a full disk) raises
    :class:`~rmab.errors.OutputError`. A file replaced keeps its permissions, and a symbolic
    link is followed (its target is replaced, not the link)."""

    def __init__(self, path, suffix: str = ""):
        path = Path(path)
        self.path = Path(os.path.realpath(path)) if path.is_symlink() else path
        self.suffix = suffix
        self._term = None
        # the temporary file's name prefix, within NAME_MAX (255 bytes) whatever the name's
        self._prefix = "." + self.path.name.encode()[:100].decode(errors="ignore") + "."

    def __enter__(self) -> Path:
        if self.path.exists() and not self.path.is_file():
            raise OutputError(f"{self.path}: must be the path of a regular file; it is a "
                              f"{'directory' if self.path.is_dir() else 'special file'}")
        parent = self.path.parent
        self._created = [d for d in (parent, *parent.parents) if not d.exists()]  # deepest first
        folder = (parent, *parent.parents)[len(self._created)]     # the nearest that exists
        if not folder.is_dir():
            raise OutputError(f"{self.path}: cannot be written there; {folder} is a file, not "
                              f"a folder")
        try:
            parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self._prefix,
                                       suffix=self.suffix + ".tmp", dir=parent)
        except OSError as exc:
            self._remove_created()
            raise self._error(exc) from exc
        os.close(fd)
        if self.path.is_file():             # keep the replaced file's permissions
            mode = stat.S_IMODE(self.path.stat().st_mode)
        else:                               # mkstemp makes 0600; give the file normal ones
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        self.tmp = Path(tmp)
        self._catch_term()
        return self.tmp

    def _catch_term(self) -> None:
        """While the file is written, SIGTERM (``kill``, SLURM, ``docker stop``) and SIGHUP (a
        closed terminal or ssh session) exit through the normal unwinding (status 128 +
        signal), so the temporary file is removed; only signals nobody else handles (their
        default, in the main thread), and only here: a Python handler would wait for a long
        computation in C to return."""
        self._term = {}
        if threading.current_thread() is not threading.main_thread():
            return

        def terminated(signum, frame):
            raise SystemExit(128 + signum)

        for sig in _EXIT_SIGNALS:
            if signal.getsignal(sig) is signal.SIG_DFL:
                self._term[sig] = signal.signal(sig, terminated)

    def __exit__(self, exc_type, exc, tb):
        for sig, handler in (self._term or {}).items():
            signal.signal(sig, handler)
        self._term = None
        if exc_type is None:
            try:
                _sync(self.tmp)                 # on disk before it is the file: after a
                os.replace(self.tmp, self.path)       # power cut, the old file or the new one
                _sync(self.path.parent)
            except OSError as err:
                self.tmp.unlink(missing_ok=True)
                self._remove_created()
                raise self._error(err) from err
            return False
        self.tmp.unlink(missing_ok=True)
        self._remove_created()
        if issubclass(exc_type, OSError) and not issubclass(exc_type, OutputError):
            raise self._error(exc) from exc
        return False

    def _error(self, exc: OSError) -> OutputError:
        """The write's failure, naming the target and the system's reason (not the temporary
        file's name, which means nothing to the user; another file's name is kept)."""
        names = [n for n in (exc.filename, getattr(exc, "filename2", None)) if n is not None]
        temporary = all(Path(n).name.startswith(self._prefix) for n in names)
        reason = exc.strerror if exc.strerror and temporary else str(exc)
        return OutputError(f"{self.path}: cannot be written there; {reason}")

    def _remove_created(self) -> None:
        for folder in self._created:                 # deepest first; stop at a non-empty one
            try:
                folder.rmdir()
            except OSError:
                break


def _sync(path: Path) -> None:
    """``fsync`` a file or folder (where the system lets a folder be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (IsADirectoryError, PermissionError):      # a folder that cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:                    # some file systems cannot sync a folder: not an error
        if not path.is_dir():
            raise
    finally:
        os.close(fd)


def check_writable(path, inputs=(), owner: str | None = None) -> None:
    """Raise :class:`~rmab.errors.OutputError` now if :class:`atomic_write` could not write
    ``path``, or if ``path`` is one of the run's ``inputs`` (it would replace it; ``owner``,
    the flag or parameter that gave ``path``, heads either error): for commands that check
    their outputs before a long run. Leaves nothing behind (the folders it had to create are
    removed again; the real write creates them)."""
    head = f"{owner}: " if owner else ""
    for source in inputs:
        if os.path.isfile(source) and os.path.isfile(path) and os.path.samefile(source, path):
            raise OutputError(f"{head}{path}: must not be an input of this run; it is "
                              f"{str(source)!r}")
    writer = atomic_write(path)
    try:
        writer.__enter__()
    except OutputError as exc:
        if not head:
            raise
        raise OutputError(f"{head}{exc}") from exc.__cause__
    writer.__exit__(RuntimeError, None, None)        # removes the file and created folders


def write_archive(path, arrays: dict, meta: dict, owner: str) -> Path:
    """Write numeric ``arrays`` and the JSON object ``meta`` (stored as the string entry
    ``__meta__``) to one compressed ``.npz`` file, atomically."""
    meta_text = json_text(owner, "metadata", meta)
    path = Path(path)
    with atomic_write(path, ".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, __meta__=np.array(meta_text), **arrays)
    return path


def read_archive(path, owner: str, fmt: str | tuple, version: int,
                 hints: dict | None = None, members=None) -> tuple[dict, dict]:
    """Read a file written by :func:`write_archive` whose ``meta["format"]`` is ``fmt`` (or one
    of a tuple of formats) and ``meta["version"]`` (if given) is ``version``, with
    ``allow_pickle=False``. Returns ``(arrays, meta)``; any defect is an InvalidModelError.
    ``hints``: lower-case suffix -> what to say when a file of that suffix is not an archive
    (the reader it needs). ``members``: the array names the format may hold; any other is
    refused before anything is decompressed."""
    check_path(owner, path)
    path = Path(path)
    if not path.is_file():
        raise InvalidParameterError(f"{owner}.path: must be an existing file; got {str(path)!r}")
    formats = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    what = f"not an {formats[0].replace('-', ' ')} file"
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise InvalidModelError(f"{owner}: {path}: cannot be read; {exc}") from exc
    if magic != b"PK\x03\x04":   # numpy would try the file as a pickle and say so
        hint = (hints or {}).get(path.suffix.lower())
        raise InvalidModelError(f"{owner}: {path}: {what}: rmab writes .npz archives, and "
                                f"this file is none{'; ' + hint if hint else ''}")
    errors = (OSError, ValueError, EOFError, NotImplementedError, RuntimeError, MemoryError,
              zipfile.BadZipFile, zlib.error)     # truncated, damaged, encrypted or oddly
    try:                                          # compressed
        check_sizes(path)
        data = np.load(path, allow_pickle=False)  # lazy: a member is read on access
    except errors as exc:
        raise InvalidModelError(f"{owner}: {path}: {what} ({exc})") from exc
    with data:
        if "__meta__" not in data.files:
            try:
                network = "format" in data.files and str(data["format"]) == NETWORK_FORMAT
            except errors:                        # an object array, a damaged member
                network = False
            raise InvalidModelError(f"{owner}: {path}: {what} (no metadata entry" + (
                "; a trained network: give it as 'rmab compare --network', or to "
                "SequoiaPlanner" if network else "") + ")")
        try:
            raw = data["__meta__"]
        except errors as exc:
            raise InvalidModelError(f"{owner}: {path}: {what} ({exc})") from exc
        meta = _read_meta(owner, path, raw, formats, version)
        unknown = sorted(set(data.files) - set(members or data.files) - {"__meta__"})
        if unknown:                               # refused before it is decompressed
            raise InvalidModelError(f"{owner}: {path}: holds entries {unknown[:5]} that "
                                    f"{meta['format']!r} does not (it holds "
                                    f"{sorted(members)})")
        try:
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
        except errors as exc:
            raise InvalidModelError(f"{owner}: {path}: {what} ({exc})") from exc
    return arrays, meta


def _read_meta(owner: str, path: Path, raw, formats: tuple, version: int) -> dict:
    """The JSON object ``raw`` (the ``__meta__`` entry) after checking its format is one of
    ``formats`` and its version ``version``."""
    try:
        meta = json.loads(str(raw))
    except (ValueError, RecursionError) as exc:      # JSONDecodeError is a ValueError
        raise InvalidModelError(f"{owner}: {path}: metadata not JSON") from exc
    if not isinstance(meta, dict):
        raise InvalidModelError(f"{owner}: {path}: metadata must be a JSON object; got "
                                f"{type(meta).__name__}")
    if meta.get("format") not in formats:
        saved = (" (a saved comparison: load it with rmab.load_comparison, or show it with "
                 "'rmab compare --show')")
        hint = {"rmab-domain": " (a coRMAB domain: load it with rmab.domains.load_domain, "
                               "or 'rmab compare --domain-file' it)",
                "rmab-instance": " (an instance: load it with rmab.load_instance, or give it "
                                 "to 'rmab compare', 'bound' or 'index')",
                "rmab-comparison": saved, "rmab-domain-comparison": saved}.get(
            str(meta.get("format")), "")              # str: a list is not a key
        raise InvalidModelError(f"{owner}: {path}: format must be "
                                f"{' or '.join(map(repr, formats))}; got "
                                f"{meta.get('format')!r}{hint}")
    if meta.get("version", version) != version:         # a newer rmab's file
        raise InvalidModelError(f"{owner}: {path}: must be a version {version} file; got "
                                f"version {meta.get('version')!r}")
    return meta


def save_instance(instance: Instance, path) -> Path:
    """Write ``instance`` to ``path`` (``.npz``), atomically. Returns the path written."""
    if not isinstance(instance, Instance):
        raise InvalidModelError(f"save_instance.instance: must be an Instance; got "
                                f"{type(instance).__name__}")
    check_path("save_instance", path, suffix=".npz")
    path = Path(path)
    arms = instance.arms
    arrays = {"transitions": arms.transitions, "rewards": arms.rewards, "costs": arms.costs,
              "initial_belief": instance.initial_belief}
    if not arms.fully_observed:
        arrays["observations"] = arms.observations
    if instance.action_caps is not None:
        arrays["action_caps"] = instance.action_caps
    meta = {"format": FORMAT, "version": VERSION, "kind": type(arms).__name__,
            "budget": instance.budget, "discount": instance.discount,
            "horizon": instance.horizon, "name": instance.name, "metadata": instance.metadata,
            "min_active": instance.min_active, "max_active": instance.max_active}
    return write_archive(path, arrays, meta, "Instance")


def load_instance(path) -> Instance:
    """Read an instance written by :func:`save_instance` (validated again on construction)."""
    arrays, meta = read_archive(path, "load_instance", FORMAT, VERSION, {
        ".pomdp": "a .POMDP file is read by rmab.read_pomdp (or 'rmab value')",
        ".csv": "a CSV of batches is solved by rmab.solve_batches (or 'rmab solve')"},
        members=("transitions", "rewards", "costs", "initial_belief", "observations",
                 "action_caps"))
    try:
        if meta["kind"] == "MDPArms":
            if "observations" in arrays:        # else read as fully observed without a word
                raise InvalidModelError(f"load_instance: {path}: kind 'MDPArms' (fully "
                                        f"observed) must not have an 'observations' entry; "
                                        f"got one (kind 'POMDPArms'?)")
            arms = MDPArms(arrays["transitions"], arrays["rewards"], arrays["costs"])
        elif meta["kind"] == "POMDPArms":
            arms = POMDPArms(arrays["transitions"], arrays["observations"], arrays["rewards"],
                             arrays["costs"])
        else:
            raise InvalidModelError(f"load_instance: {path}: kind must be MDPArms or POMDPArms; "
                                    f"got {meta['kind']!r}")
        return Instance(arms, meta["budget"], discount=meta["discount"], horizon=meta["horizon"],
                        initial_belief=arrays["initial_belief"], name=meta.get("name", "instance"),
                        metadata=meta.get("metadata", {}), action_caps=arrays.get("action_caps"),
                        min_active=meta.get("min_active", 0), max_active=meta.get("max_active"))
    except KeyError as exc:
        raise InvalidModelError(f"load_instance: {path}: missing entry {exc}") from exc
    except RmabError as exc:        # 'Instance.budget: ...' named no file (load_domain's do)
        where = f"load_instance: {path}"
        if str(exc).startswith(where):
            raise
        raise_in(exc, where)
