"""A feed-forward ReLU network held as numpy weights.

``y = W_L relu(... relu(W_1 x + b_1) ...) + b_L``: every layer but the last is followed by a
ReLU; the last is linear. Weights are ``(out, in)`` as in ``torch.nn.Linear``.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from solvers.errors import SolverDependencyError, SolverInputError
from solvers.milp import real_array
from solvers.npz import check_sizes

__all__ = ["ReLUNetwork"]

FORMAT = "solvers-relu-network"
VERSION = 1
_STORED = {"format", "version", "n_layers"}     # with W<i> and b<i>: the network itself


def _matrix(field: str, value, ndim: int) -> np.ndarray:
    arr = real_array(f"ReLUNetwork.{field}", value)
    if arr.ndim != ndim:
        raise SolverInputError(f"ReLUNetwork.{field}: must have {ndim} dimensions; got shape "
                               f"{arr.shape}")
    if not np.isfinite(arr).all():       # which entry: a walkthrough's NaN had no place
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise SolverInputError(f"ReLUNetwork.{field}: must be finite; got {arr[bad]} at index "
                               f"{bad}")
    arr.flags.writeable = False
    return arr


def _check_path(owner: str, value, *, writable: bool = False) -> None:
    """Refuse (SolverInputError) a ``value`` that is not a path: a str or an
    :class:`os.PathLike` giving a str without a NUL character (bytes are refused, as
    :class:`pathlib.Path` does; an int, which ``open`` takes as a file descriptor and closes,
    too), or, where ``writable``, a path ending in ``.npz`` (any case) or an object with
    ``write`` (a binary file open for writing). rmab's readers and writers check paths the
    same way (``rmab._validation.check_path``)."""
    if writable and hasattr(value, "write"):
        return
    if isinstance(value, str) or (isinstance(value, os.PathLike)
                                  and isinstance(os.fspath(value), str)):
        text = os.fspath(value)
        if "\0" in text:
            raise SolverInputError(f"{owner}: must not contain a NUL character; got {text!r}")
        if writable and not text.lower().endswith(".npz"):      # not an archive named 'net'
            raise SolverInputError(f"{owner}: must be a path ending in .npz (the file is "
                                   f"written in that format); got {text!r}")
        return
    what = " or a binary file open for writing" if writable else ""
    raise SolverInputError(f"{owner}: must be a path (str or os.PathLike){what}; got "
                           f"{type(value).__name__}")


def _meta(owner: str, meta) -> dict:
    """``meta`` as a new dict of names to read-only arrays of numbers, bools or strings (what
    ``np.savez`` stores without pickling), none under a name the network is stored under."""
    if not isinstance(meta, (dict, MappingProxyType)):
        raise SolverInputError(f"{owner}: must be a dict of arrays; got {type(meta).__name__}")
    named = [k for k in meta if not isinstance(k, str)]
    if named:
        raise SolverInputError(f"{owner}: keys must be strings; got {named[0]!r}")
    taken = sorted(k for k in meta if k in _STORED | {"allow_pickle", "file"}
                   or re.fullmatch(r"[Wb]\d+", k))
    if taken:
        raise SolverInputError(f"{owner}: must not use the names the network is stored under "
                               f"(format, version, n_layers, W<i>, b<i>) or file and "
                               f"allow_pickle (np.savez's); got {taken}")
    arrays = {k: np.array(v) for k, v in meta.items()}
    pickled = sorted(k for k, a in arrays.items() if a.dtype.hasobject)
    if pickled:              # np.savez would pickle them, and load (no pickles) refuse the file
        raise SolverInputError(f"{owner}: must be arrays of numbers, bools or strings; got "
                               f"Python objects under {pickled}")
    for a in arrays.values():
        a.flags.writeable = False
    return arrays


@dataclass(frozen=True, eq=False)
class ReLUNetwork:
    """ReLU MLP: ``weights[l]`` (out_l, in_l), ``biases[l]`` (out_l,); last layer linear.

    ``in_{l+1} == out_l``; at least one layer. ``n_inputs = in_0``, ``n_outputs = out_{L-1}``.
    ``meta``: a caller's named arrays (numbers, bools or strings) kept with the weights by
    :meth:`save` and :meth:`load` (``rmab train`` records there what the network was trained
    on), a read-only mapping.
    """

    weights: tuple
    biases: tuple
    meta: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        for name in ("weights", "biases"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise SolverInputError(f"ReLUNetwork.{name}: must be a sequence of arrays (one "
                                       f"per layer); got {type(value).__name__}")
        weights = tuple(_matrix(f"weights[{i}]", w, 2) for i, w in enumerate(self.weights))
        biases = tuple(_matrix(f"biases[{i}]", b, 1) for i, b in enumerate(self.biases))
        if not weights or len(weights) != len(biases):
            raise SolverInputError(f"ReLUNetwork.biases: must be one per layer (>= 1 layer); got "
                                   f"{len(weights)} weights and {len(biases)} biases")
        for i, (w, b) in enumerate(zip(weights, biases)):
            if b.shape != (w.shape[0],):
                raise SolverInputError(f"ReLUNetwork.biases[{i}]: must have shape "
                                       f"({w.shape[0]},); got {b.shape}")
            if i and w.shape[1] != weights[i - 1].shape[0]:
                raise SolverInputError(f"ReLUNetwork.weights[{i}]: must have "
                                       f"{weights[i - 1].shape[0]} columns (the previous layer's "
                                       f"width); got shape {w.shape}")
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "biases", biases)
        # read-only: an entry added later reached save unchecked (a review)
        object.__setattr__(self, "meta", MappingProxyType(_meta("ReLUNetwork.meta", self.meta)))

    def __getstate__(self) -> dict:         # a mappingproxy does not pickle (worker processes)
        return {**self.__dict__, "meta": dict(self.meta)}

    def __setstate__(self, state: dict) -> None:
        """Read-only again (a copy's arrays are writable); a pickle from before ``meta`` has
        none."""
        for arrays in (state["weights"], state["biases"], state.get("meta", {}).values()):
            for a in arrays:
                a.flags.writeable = False
        self.__dict__.update(state, meta=MappingProxyType(state.get("meta", {})))

    @property
    def n_inputs(self) -> int:
        return self.weights[0].shape[1]

    @property
    def n_outputs(self) -> int:
        return self.weights[-1].shape[0]

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    @property
    def hidden_sizes(self) -> tuple:
        return tuple(w.shape[0] for w in self.weights[:-1])

    def forward(self, x) -> np.ndarray:
        """Outputs for finite inputs ``x`` (n_inputs,) -> (n_outputs,) or (batch, n_inputs) ->
        (batch, n_outputs). A NaN or infinite input is refused (:class:`SolverInputError`); an
        output past float64's range (weights of 1e300) is inf or NaN, as numpy computes it."""
        x = real_array("ReLUNetwork.forward.x", x)
        if x.shape[-1:] != (self.n_inputs,) or x.ndim > 2:
            raise SolverInputError(f"ReLUNetwork.forward.x: must have shape ({self.n_inputs},) or "
                                   f"(batch, {self.n_inputs}); got {x.shape}")
        if not np.isfinite(x).all():      # a NaN came out as an output of NaN, unremarked
            bad = np.argwhere(~np.isfinite(x))[0]
            raise SolverInputError(f"ReLUNetwork.forward.x: must be finite; got "
                                   f"{x[tuple(bad)]} at index {tuple(int(i) for i in bad)}")
        h = x
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            h = np.maximum(h @ w.T + b, 0.0)
        return h @ self.weights[-1].T + self.biases[-1]

    # ---------------------------------------------------------------- torch
    @classmethod
    def from_torch(cls, module) -> "ReLUNetwork":
        """Copy a ``torch.nn.Sequential`` of ``Linear`` and ``ReLU`` (alternating, ending with
        ``Linear``; nested ``Sequential`` are flattened)."""
        try:
            import torch
        except ImportError as exc:
            raise SolverDependencyError("ReLUNetwork.from_torch: needs torch; install it with "
                                        "pip install 'rmab[torch]'") from exc

        def leaves(mod):
            if isinstance(mod, torch.nn.Sequential):
                for child in mod:
                    yield from leaves(child)
            else:
                yield mod

        layers = list(leaves(module))
        weights, biases, expect_linear = [], [], True
        for i, layer in enumerate(layers):
            if expect_linear and isinstance(layer, torch.nn.Linear):
                weights.append(layer.weight.detach().cpu().double().numpy())
                bias = layer.bias
                biases.append(np.zeros(layer.out_features) if bias is None
                              else bias.detach().cpu().double().numpy())
            elif not expect_linear and isinstance(layer, torch.nn.ReLU):
                pass
            else:
                want = "Linear" if expect_linear else "ReLU"
                raise SolverInputError(f"ReLUNetwork.from_torch.module: must alternate Linear "
                                       f"and ReLU, ending with Linear; got {type(layer).__name__} "
                                       f"at position {i} where {want} was expected")
            expect_linear = not expect_linear
        if not weights or expect_linear:
            raise SolverInputError("ReLUNetwork.from_torch.module: must end with a Linear layer; "
                                   f"got {[type(m).__name__ for m in layers]}")
        return cls(tuple(weights), tuple(biases))

    # ---------------------------------------------------------------- files
    def save(self, path, extra: dict | None = None):
        """Write to ``path`` (``.npz``) atomically (a file replaced keeps its permissions, a
        symbolic link is followed) or into ``path``, a binary file open for writing (whose
        atomicity is the caller's); returns ``path``. The weights are stored with ``meta`` and
        ``extra``, more named arrays (over ``meta``'s of the same name), which :meth:`load`
        returns as ``meta``. Anything else (an int, which ``open`` would take as a file
        descriptor, bytes, None) is refused with :class:`SolverInputError`."""
        _check_path("ReLUNetwork.save.path", path, writable=True)
        arrays = dict(_meta("ReLUNetwork.save.extra", {**self.meta, **(extra or {})}))
        arrays.update({"format": np.array(FORMAT), "version": np.array(VERSION),
                       "n_layers": np.array(self.n_layers)})
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            arrays[f"W{i}"] = w
            arrays[f"b{i}"] = b
        if hasattr(path, "write"):
            np.savez(path, **arrays)
            return path
        given = path = Path(path)
        if path.is_symlink():
            path = Path(os.path.realpath(path))
        if path.is_dir():
            raise SolverInputError(f"ReLUNetwork.save.path: must be a file path; got the "
                                   f"directory {str(path)!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():                 # keep the replaced file's permissions
            mode = stat.S_IMODE(path.stat().st_mode)
        else:                              # mkstemp makes 0600; give the file normal ones
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
                fh.flush()
                os.fsync(fh.fileno())      # on disk before it is the file
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return given

    @classmethod
    def load(cls, path) -> "ReLUNetwork":
        """Read a network written by :meth:`save` (no pickle; sizes checked before anything
        is decompressed, :func:`solvers.npz.check_sizes`). ``path``: a str or
        :class:`os.PathLike`; anything else is refused with :class:`SolverInputError` (an int
        was opened as a file descriptor, and closed: the caller's)."""
        _check_path("ReLUNetwork.load.path", path)
        try:
            with open(path, "rb") as fh:     # numpy would try anything else as a pickle
                if fh.read(4) != b"PK\x03\x04":
                    raise ValueError("not an .npz archive")
            with zipfile.ZipFile(path) as archive:      # numpy's error said 'magic string'
                if any(name.endswith("data.pkl") for name in archive.namelist()):
                    raise SolverInputError(
                        f"ReLUNetwork.load.path: must be a {FORMAT} .npz file; got "
                        f"{str(path)!r}, a PyTorch checkpoint (rmab train writes the network "
                        f"as numpy weights beside it: sequoia.npz)")
            check_sizes(path)                # a 1 KB file declared a 7 TiB layer
            with np.load(path, allow_pickle=False) as data:
                if "format" not in data or str(data["format"]) != FORMAT:
                    raise SolverInputError(f"ReLUNetwork.load.path: must be a {FORMAT} file; "
                                           f"got {str(path)!r}" + (
                                               ", an rmab data file (a domain, instance or "
                                               "comparison; a network is the sequoia.npz "
                                               "'rmab train' writes)"
                                               if "__meta__" in data else ""))
                if int(data["version"]) > VERSION:
                    raise SolverInputError(f"ReLUNetwork.load.version: must be <= {VERSION}; "
                                           f"got {int(data['version'])}")
                raw = data["n_layers"]
                if raw.shape != () or raw.dtype.kind not in "iu" or int(raw) < 1:
                    raise SolverInputError(f"ReLUNetwork.load.n_layers: must be an integer "
                                           f">= 1; got {raw.tolist()!r} in {str(path)!r}")
                n = int(raw)
                layers = {k for k in data.files if re.fullmatch(r"[Wb]\d+", k)}
                # the count first: n_layers = 2**40 in a 2 KB file built a set until killed
                if len(layers) != 2 * n or layers != {f"{p}{i}" for p in "Wb"
                                                      for i in range(n)}:  # W2 was ignored
                    raise SolverInputError(f"ReLUNetwork.load.path: must hold W0..W{n - 1} "
                                           f"and b0..b{n - 1} for n_layers={n}; got "
                                           f"{sorted(layers)} in {str(path)!r}")
                weights = tuple(data[f"W{i}"] for i in range(n))
                biases = tuple(data[f"b{i}"] for i in range(n))
                meta = {k: data[k] for k in data.files if k not in _STORED | layers}
        except (OSError, ValueError, KeyError, TypeError, EOFError, NotImplementedError,
                MemoryError, zipfile.BadZipFile, zlib.error) as exc:   # damaged, foreign
            if isinstance(exc, SolverInputError):
                raise
            raise SolverInputError(f"ReLUNetwork.load.path: must be a readable {FORMAT} .npz "
                                   f"file; got {str(path)!r} ({exc})") from exc
        return cls(weights, biases, meta)
