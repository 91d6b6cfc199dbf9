"""Tests of ``sklearn_l1align._validation``: the shared array, pair and cut-off checks."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_l1align._validation import (
    check_cutoffs,
    check_orthogonal,
    check_pairs,
    check_real,
    check_same_dim,
    orthogonality_error,
)


# ----------------------------------------------------------------------------- pairs
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint32, np.uint64])
def test_check_pairs_accepts_every_integer_dtype(dtype):
    pairs = np.array([[0, 1], [2, 0]], dtype=dtype)
    got = check_pairs(pairs, 3, 2)
    assert got.dtype == np.int64
    assert_array_equal(got, [[0, 1], [2, 0]])


@pytest.mark.parametrize("value", [2**63, 2**64 - 1, 2**63 + 5])
def test_uint64_beyond_int64_is_named_not_wrapped(value):
    pairs = np.array([[0, 0], [1, value]], dtype=np.uint64)
    with pytest.raises(ValueError, match=rf"pairs\[:, 1\] indexes the target rows, so it must be < 4\. "
                                         rf"Got {value} at row 1 instead"):
        check_pairs(pairs, 4, 4)


def test_python_ints_beyond_int64_are_refused():
    with pytest.raises(ValueError, match="integer row indices"):
        check_pairs([[0, 2**70]], 4, 4)  # an object array: no silent wrap-around


def test_whole_floats_are_accepted_and_range_checked_before_the_cast():
    assert_array_equal(check_pairs([[1.0, 2.0]], 3, 3), [[1, 2]])
    with pytest.raises(ValueError, match=r"must be < 3\. Got 1e\+30 at row 0"):
        check_pairs([[1e30, 0.0]], 3, 3)
    with pytest.raises(ValueError, match=r"non-negative row indices\. Got \[-1\.0, 0\.0\] at row 0"):
        check_pairs([[-1.0, 0.0]], 3, 3)


@pytest.mark.parametrize(
    "pairs, fragment",
    [
        ([[0.5, 1.0]], "integer row indices"),
        ([[np.nan, 1.0]], "integer row indices"),
        ([["a", "b"]], "integer row indices"),
        ([0, 1], r"shape \(n_pairs, 2\)"),
        ([[0, 1, 2]], r"shape \(n_pairs, 2\)"),
        (np.empty((0, 2), dtype=int), "is empty"),
        ([[0, -1]], "non-negative"),
        ([[5, 0]], r"pairs\[:, 0\] indexes the source rows, so it must be < 3\. Got 5 at row 0"),
    ],
)
def test_check_pairs_errors(pairs, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_pairs(pairs, 3, 3)


def test_check_pairs_names_the_argument():
    with pytest.raises(ValueError, match="seed must have shape"):
        check_pairs([0, 1], 3, 3, name="seed")


# ----------------------------------------------------------------------------- cut-offs
@pytest.mark.parametrize("k, expected", [(1, (1,)), ((1, 5, 10), (1, 5, 10)), ([3], (3,)),
                                         (np.int64(4), (4,)), ((np.int32(2), 7), (2, 7))])
def test_check_cutoffs_accepts_positive_integers(k, expected):
    got = check_cutoffs(k)
    assert got == expected
    assert all(type(v) is int for v in got)


@pytest.mark.parametrize("k", [0, -1, 1.5, 2.0, True, np.True_, (1.5,), (1, 0), (), [], None, "1", (1, "5")])
def test_check_cutoffs_refuses_the_rest(k):
    with pytest.raises(ValueError, match=r"k must be a positive integer.*Got .* instead"):
        check_cutoffs(k)


# ----------------------------------------------------------------------------- arrays
def test_check_real_and_same_dim():
    X = np.ones((2, 3))
    assert check_real(X, "X") is X
    with pytest.raises(ValueError, match="Complex data not supported: Z must hold real numbers"):
        check_real(np.ones(2, dtype=complex), "Z")
    check_same_dim(X, np.ones((5, 3)))
    with pytest.raises(ValueError, match="A and B must have the same number of features.*Got 3 and 2"):
        check_same_dim(X, np.ones((5, 2)), names=("A", "B"))


def test_orthogonality_error_and_check_orthogonal():
    Q = np.linalg.qr(np.random.default_rng(0).normal(size=(5, 5)))[0]
    assert orthogonality_error(Q) < 1e-14
    M = np.eye(3)
    M[0, 0] = 1.1
    assert orthogonality_error(M) == pytest.approx(0.21)
    assert check_orthogonal(Q, 5, tol=1e-10).dtype == np.float64
    with pytest.raises(ValueError, match=r"must be orthogonal: max\|MᵀM − I\| <= 1e-05\. Got 0\.21"):
        check_orthogonal(M, 3, tol=1e-5)
    with pytest.raises(ValueError, match=r"shape \(4, 4\)"):
        check_orthogonal(Q, 4, tol=1e-5)
    with pytest.raises(ValueError, match="finite"):
        check_orthogonal(np.full((2, 2), np.nan), 2, tol=1e-5)


# ------------------------------------------------------------------- finiteness (issue 12)
def _large(dtype=np.float32, order="C"):
    from sklearn_l1align._validation import FINITE_BLAS_MIN_SIZE

    rows = FINITE_BLAS_MIN_SIZE // 64 + 3  # over the BLAS threshold, rows not a multiple of 16
    return np.asarray(np.random.default_rng(0).normal(size=(rows, 64)), dtype=dtype, order=order)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("bad, message", [(np.nan, "Input y contains NaN"),
                                          (np.inf, "Input y contains infinity"),
                                          (-np.inf, "Input y contains infinity")])
def test_check_all_finite_finds_one_bad_entry_anywhere(dtype, order, bad, message):
    # One bad entry in the first, a middle and the last row (the first, a middle and the
    # last, partial, of blocked_product's row blocks), with scikit-learn's own message
    # naming the array.
    from sklearn_l1align._validation import check_all_finite

    X = _large(dtype, order)
    check_all_finite((X, X), ("X", "y"))
    for row in (0, X.shape[0] // 2, X.shape[0] - 1):
        Y = X.copy(order="K")
        Y[row, 7] = bad
        with pytest.raises(ValueError, match=message):
            check_all_finite((X, Y), ("X", "y"))


def test_check_all_finite_passes_a_finite_array_whose_sum_overflows():
    from sklearn_l1align._validation import check_all_finite

    X = _large()
    X[:, :] = np.float32(3e38)
    check_all_finite((X,), ("X",))  # the sum is inf, each entry finite: the full check passes


def test_check_all_finite_small_strided_and_assume_finite():
    import sklearn

    from sklearn_l1align._validation import check_all_finite

    small = np.array([[1.0, np.nan]])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        check_all_finite((small,), ("X",))
    strided = _large()[:, ::2].copy()
    strided = np.repeat(strided, 2, axis=1)[:, ::2]  # neither C- nor F-contiguous
    strided[5, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        check_all_finite((strided,), ("X",))
    with sklearn.config_context(assume_finite=True):
        check_all_finite((small, strided), ("X", "y"))
