"""The decorator of rmab's numba kernels: ``njit``, cached on disk where it can be.

``numba.njit(cache=True)`` raises at import when it finds no writable cache directory (a
read-only install and no writable home); rmab then compiles its kernels in memory at every
run, and says so once.
"""

from __future__ import annotations

import warnings

from numba import njit as _njit

from rmab.errors import RmabWarning

_warned = False


def njit(*args, **options):
    """``numba.njit(cache=True, **options)``, uncached when no cache can be written (set
    ``NUMBA_CACHE_DIR`` to a writable folder to keep the cache)."""
    def decorate(func):
        global _warned
        try:
            return _njit(cache=True, **options)(func)
        except RuntimeError as exc:
            if "cannot cache" not in str(exc):
                raise
            if not _warned:
                _warned = True
                warnings.warn("numba finds no writable cache directory, so rmab's kernels "
                              "are compiled again in every run (seconds at first use); set "
                              "NUMBA_CACHE_DIR to a writable folder to keep them",
                              RmabWarning, stacklevel=2)
            return _njit(**options)(func)

    if args and not (len(args) == 1 and callable(args[0])):
        raise TypeError("njit: takes the function or keyword options only (signatures would "
                        "be dropped)")
    return decorate(args[0]) if args else decorate
