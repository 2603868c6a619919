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


def test_prefetch_is_a_hint_in_compiled_code_and_nothing_in_python():
    """The belief kernel's prefetch becomes the CPU's prefetch instruction (x86 prefetcht0,
    arm64 prfm) and changes no result; called from plain Python it does nothing."""
    import platform

    import numpy as np
    from numba import njit

    @njit
    def total(x):
        acc = 0.0
        for i in range(x.size):
            rmab_numba.prefetch(x, min(i + 8, x.size - 1))
            acc += x[i]
        return acc

    x = np.arange(100.0)
    assert total(x) == total.py_func(x) == x.sum()
    assert rmab_numba.prefetch(x, 0) is None
    code = total.inspect_asm(total.signatures[0]).lower()
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        assert "prefetch" in code
    elif machine in ("arm64", "aarch64"):
        assert "prfm" in code
