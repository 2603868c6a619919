"""Test-session settings: each pytest-xdist worker keeps its own numba cache (``.numba_cache/``).

numba reads a kernel's cache index, adds an entry and writes it back without a lock, so two
processes saving different compilations of one kernel at the same moment can leave the index
naming the other's code (numba 0.6x ``IndexDataCacheFile.save``). The workers run different
tests, so on a cold cache (every CI run) they do compile different signatures of shared
kernels. Set before any test imports numba; a ``NUMBA_CACHE_DIR`` given by the user wins."""

import os
import pathlib

_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = str(pathlib.Path(__file__).resolve().parents[1]
                                        / ".numba_cache" / _worker)
