"""Save and load domain instances as one ``.npz`` file: the arrays of
:meth:`~rmab.domains.base.Domain.to_arrays` plus a JSON string with the kind and the scalars.

Nothing is pickled (``allow_pickle=False``, :func:`json.loads`), so another implementation can
read the same instance with any ``.npz`` reader: every array is a plain numeric array named as
the keyword of the domain's ``from_arrays``; ``__meta__`` holds
``{"format": "rmab-domain", "version": 1, "kind": ..., "scalars": {...}}``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from rmab._validation import check_path
from rmab.domains.base import Domain
from rmab.errors import InvalidModelError, InvalidParameterError, RmabError, RmabWarning, raise_in
from rmab.models.storage import read_archive, write_archive

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

    if not isinstance(kind, str) or kind not in DOMAIN_KINDS:
        raise InvalidModelError(f"domain.kind: must be one of {sorted(DOMAIN_KINDS)}; got "
                                f"{kind!r}")
    module, _, name = DOMAIN_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def save_domain(domain: Domain, path) -> Path:
    """Write ``domain`` to ``path`` (``.npz``), atomically. Returns the path written."""
    if not isinstance(domain, Domain):
        raise InvalidParameterError(f"save_domain.domain: must be a Domain; got "
                                    f"{type(domain).__name__}")
    check_path("save_domain", path, suffix=".npz")
    arrays, scalars = {}, {}
    for key, value in domain.to_arrays().items():
        if isinstance(value, np.ndarray):
            arrays[key] = value
        else:
            scalars[key] = value
    meta = {"format": FORMAT, "version": VERSION, "kind": domain.kind, "scalars": scalars}
    return write_archive(path, arrays, meta, "save_domain")


def load_domain(path) -> Domain:
    """Read a domain written by :func:`save_domain` (validated again on construction; an
    error there names the file, as the reader's do)."""
    arrays, meta = read_archive(path, "load_domain", FORMAT, VERSION)
    cls = domain_class(meta.get("kind"))
    try:
        with warnings.catch_warnings():   # warned when it was built; a generated one is normal
            warnings.simplefilter("ignore", RmabWarning)
            return cls.from_arrays(**arrays, **meta.get("scalars", {}))
    except TypeError as exc:
        raise InvalidModelError(f"load_domain: {path}: entries do not match {cls.__name__}: "
                                f"{exc}") from exc
    except RmabError as exc:             # 'CapacityDomain.costs: ...' named no file
        raise_in(exc, f"load_domain: {path}")
