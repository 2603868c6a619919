"""The decorator of rmab's numba kernels (``njit``, cached on disk where it can be) and the
helpers they share (``prefetch``, ``copy_rows``, ``copy_items``, ``stable_order``).

``numba.njit(cache=True)`` raises at import when it finds no writable cache directory (a
read-only install and no writable home); rmab then compiles its kernels in memory at every
run, and says so once.
"""

from __future__ import annotations

import warnings

import numpy as np
from llvmlite import ir
from numba import njit as _njit
from numba import types
from numba.extending import intrinsic, overload

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


def prefetch(arr, flat):
    """Ask the CPU to start fetching the cache line of ``arr``'s entry ``flat`` (a C-contiguous
    array's flat index) for reading soon: ``llvm.prefetch`` in compiled code, a hint that
    never faults and changes no result; nothing in plain Python (``py_func``,
    ``NUMBA_DISABLE_JIT=1``)."""


@intrinsic
def _prefetch(typingctx, arr, flat):
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        hint = builder.module.declare_intrinsic(   # names itself for typed or opaque pointers
            "llvm.prefetch", [byte],                # (LLVM 14 or 15+)
            ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]))
        address = builder.bitcast(builder.gep(data, [args[1]]), byte)
        builder.call(hint, [address, i32(0), i32(3), i32(1)])     # read, keep, data
        return context.get_dummy_value()

    return types.void(arr, types.intp), codegen


@overload(prefetch)
def _prefetch_compiled(arr, flat):
    return lambda arr, flat: _prefetch(arr, flat)


def copy_rows(dst, at, src, n):
    """``dst[at:at + n] = src[:n]`` for 2-D arrays, by loops. Numba compiles an array-to-slice
    assignment with its shape-mismatch message (a string formatter: about 2 s on first use
    in a process with an empty cache, and seconds more for each 2-D one in a kernel).

    An overload, not an ``njit`` function: numba would compile a dispatcher once for a
    literal ``at`` or ``n`` (``copy_rows(x, 0, ...)``: ``Literal[int](0)``) and again for an
    int64 one; an overload is typed with the non-literal types first, so each array type
    compiles once. Plain Python outside compiled code."""
    for i in range(n):
        for j in range(src.shape[1]):
            dst[at + i, j] = src[i, j]


def copy_items(dst, at, src, n):
    """``dst[at:at + n] = src[:n]`` for 1-D arrays, by a loop (as :func:`copy_rows`)."""
    for i in range(n):
        dst[at + i] = src[i]


@overload(copy_rows, prefer_literal=False)
def _copy_rows_compiled(dst, at, src, n):
    return copy_rows


@overload(copy_items, prefer_literal=False)
def _copy_items_compiled(dst, at, src, n):
    return copy_items


@njit
def stable_order(values):
    """``np.argsort(values, kind="stable")`` by insertion sort, for the short arrays of the
    route kernels (O(n^2)): numba compiled its merge sort for about 1 s on first use."""
    order = np.arange(values.shape[0])
    for j in range(1, values.shape[0]):
        i, p = order[j], j
        while p > 0 and values[order[p - 1]] > values[i]:
            order[p] = order[p - 1]
            p -= 1
        order[p] = i
    return order
