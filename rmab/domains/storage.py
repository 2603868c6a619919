"""Save and load domain instances as one ``.npz`` file: the arrays of
:meth:`~rmab.domains.base.Domain.to_arrays` plus a JSON string with the kind and the scalars.

Nothing is pickled (``allow_pickle=False``, :func:`json.loads`), so another implementation can
read the same instance with any ``.npz`` reader: every array is a plain numeric array named as
the keyword of the domain's ``from_arrays``; ``__meta__`` holds
``{"format": "rmab-domain", "version": 1, "kind": ..., "scalars": {...}}``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from rmab.domains.base import Domain
from rmab.errors import InvalidModelError, InvalidParameterError

__all__ = ["save_domain", "load_domain", "DOMAIN_KINDS", "domain_class"]

FORMAT = "rmab-domain"
VERSION = 1

DOMAIN_KINDS = {
    "interventions": "rmab.domains.interventions:InterventionsDomain",
    "capacity": "rmab.domains.capacity:CapacityDomain",
    "scheduling": "rmab.domains.scheduling:SchedulingDomain",
    "path": "rmab.domains.path:PathDomain",
}


def domain_class(kind: str) -> type:
    """The domain class stored under ``kind``."""
    import importlib

    if kind not in DOMAIN_KINDS:
        raise InvalidModelError(f"domain.kind: must be one of {sorted(DOMAIN_KINDS)}; got "
                                f"{kind!r}")
    module, _, name = DOMAIN_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def save_domain(domain: Domain, path) -> Path:
    """Write ``domain`` to ``path`` (``.npz``), atomically. Returns the path written."""
    from rmab.models.storage import atomic_write

    if not isinstance(domain, Domain):
        raise InvalidParameterError(f"save_domain.domain: must be a Domain; got "
                                    f"{type(domain).__name__}")
    arrays, scalars = {}, {}
    for key, value in domain.to_arrays().items():
        if isinstance(value, np.ndarray):
            arrays[key] = value
        else:
            scalars[key] = value
    meta = {"format": FORMAT, "version": VERSION, "kind": domain.kind, "scalars": scalars}
    path = Path(path)
    with atomic_write(path, ".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, __meta__=np.array(json.dumps(meta)), **arrays)
    return path


def load_domain(path) -> Domain:
    """Read a domain written by :func:`save_domain` (validated again on construction)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidParameterError(f"load_domain.path: must be an existing file; got "
                                    f"{str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidModelError(f"load_domain: {path}: not an rmab domain file ({exc})") from exc
    try:
        meta = json.loads(str(arrays.pop("__meta__")))
    except (KeyError, json.JSONDecodeError) as exc:
        raise InvalidModelError(f"load_domain: {path}: metadata missing or not JSON") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InvalidModelError(f"load_domain: {path}: format must be {FORMAT!r}; got "
                                f"{meta.get('format') if isinstance(meta, dict) else meta!r}")
    cls = domain_class(meta.get("kind"))
    try:
        return cls.from_arrays(**arrays, **meta.get("scalars", {}))
    except TypeError as exc:
        raise InvalidModelError(f"load_domain: {path}: entries do not match {cls.__name__}: "
                                f"{exc}") from exc
