"""The helpers rmab's numba kernels share (``rmab._kernels``), against numpy."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab._kernels import copy_items, copy_rows, njit, stable_order


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-3, 3) | st.floats(-1e3, 1e3), max_size=40))
def test_stable_order_is_numpys_stable_argsort(values):
    """Ties (small integers) keep their input order, as ``kind="stable"`` does."""
    x = np.asarray(values, dtype=float)
    np.testing.assert_array_equal(stable_order(x), np.argsort(x, kind="stable"))


@njit
def _copies(dst1, src1, dst2, src2, at, n):
    copy_items(dst1, at, src1, n)
    copy_rows(dst2, at, src2, n)


def test_copies_are_slice_assignments():
    rng = np.random.default_rng(0)
    src1, src2 = rng.random(5), rng.random((5, 3))
    dst1, dst2 = np.zeros(8), np.zeros((8, 3))
    _copies(dst1, src1, dst2, src2, 2, 4)
    want1, want2 = np.zeros(8), np.zeros((8, 3))
    want1[2:6], want2[2:6] = src1[:4], src2[:4]
    np.testing.assert_array_equal(dst1, want1)
    np.testing.assert_array_equal(dst2, want2)
