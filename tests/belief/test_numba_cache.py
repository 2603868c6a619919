"""Kernels compile without numba's disk cache where none can be written."""

import warnings

import rmab._kernels as rmab_numba
from rmab.errors import RmabWarning


def test_no_writable_cache_compiles_in_memory_with_one_warning(monkeypatch):
    """numba raised 'cannot cache function' at import on a read-only install with no writable
    home, so 'import rmab' failed there."""
    from numba.core import caching

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    monkeypatch.setattr(rmab_numba, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        @rmab_numba.njit
        def add_one(x):
            return x + 1

        @rmab_numba.njit(nogil=True)
        def twice(x):
            return 2 * x

    assert add_one(1) == 2 and twice(3) == 6
    messages = [str(w.message) for w in caught if issubclass(w.category, RmabWarning)]
    assert len(messages) == 1 and "NUMBA_CACHE_DIR" in messages[0]
