"""Shared input checks for embeddings and index pairs.

Every public entry point validates through these helpers so that a user gets the
same message for the same mistake wherever they make it.
"""

import numbers

import numpy as np
from sklearn import get_config
from sklearn.utils import check_array

from ._geometry import orthogonality_error
from ._threads import blocked_product

__all__ = ["check_all_finite", "check_cutoffs", "check_orthogonal", "check_pairs", "check_real",
           "check_same_dim"]


def check_real(X, name):
    """Raise ``ValueError`` if ``X`` holds complex numbers; return ``X`` unchanged.

    Called before scikit-learn's ``check_array``, whose own message for complex input
    prints the whole array. The message keeps scikit-learn's opening words, which its
    estimator checks look for.
    """
    if np.iscomplexobj(X):
        dtype = X.dtype if hasattr(X, "dtype") else np.asarray(X).dtype
        raise ValueError(
            f"Complex data not supported: {name} must hold real numbers (it is converted to "
            f"float64 or float32). Got dtype {dtype} instead."
        )
    return X


def check_same_dim(X, Y, *, names=("X", "y")):
    """Raise ``ValueError`` unless ``X`` and ``Y`` have the same number of columns."""
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of features "
            f"(embedding dimension). Got {X.shape[1]} and {Y.shape[1]} instead."
        )


def check_pairs(pairs, n_src, n_tgt, *, name="pairs"):
    """Validate an ``(n_pairs, 2)`` integer array of (source row, target row) indices.

    Parameters
    ----------
    pairs : array-like of shape (n_pairs, 2)
        Row ``(i, j)`` says that source row ``i`` translates to target row ``j``.
    n_src, n_tgt : int
        Number of rows in the source and target spaces.
    name : str, default="pairs"
        Name used in error messages.

    Returns
    -------
    pairs : ndarray of shape (n_pairs, 2), dtype int64
    """
    arr = np.asarray(pairs)
    if arr.dtype == object or arr.dtype.kind not in "iu":
        if arr.size and arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            pass  # whole numbers: range-checked as they are, then cast
        elif arr.size == 0 and arr.ndim >= 1:
            arr = arr.astype(np.int64)
        else:
            raise ValueError(
                f"{name} must be an array of integer row indices of shape (n_pairs, 2). "
                f"Got dtype {arr.dtype} instead."
            )
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(
            f"{name} must have shape (n_pairs, 2): one (source row, target row) per line. "
            f"Got shape {arr.shape} instead."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: at least one (source, target) pair is needed.")
    # Range checks on the numbers as given: a cast first would wrap uint64 values of
    # 2**63 and above (and floats beyond int64) to negative numbers.
    if arr.dtype.kind in "if" and arr.min() < 0:
        bad = int(np.flatnonzero((arr < 0).any(axis=1))[0])
        raise ValueError(
            f"{name} must hold non-negative row indices. Got {arr[bad].tolist()} at row {bad} instead."
        )
    for col, n, side in ((0, n_src, "source"), (1, n_tgt, "target")):
        too_big = arr[:, col] >= n
        if too_big.any():
            bad = int(np.flatnonzero(too_big)[0])
            raise ValueError(
                f"{name}[:, {col}] indexes the {side} rows, so it must be < {n}. "
                f"Got {arr[bad, col].item()!r} at row {bad} instead."
            )
    arr = arr.astype(np.int64, copy=False)
    return arr


def check_orthogonal(M, d, *, tol, name="initial"):
    """Validate a ``(d, d)`` orthogonal matrix, returning it as float64."""
    M = np.asarray(M)
    if M.dtype.kind == "c":
        raise ValueError(f"{name} must be real. Got complex dtype {M.dtype} instead.")
    M = M.astype(np.float64)
    if M.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}). Got {M.shape} instead.")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} must be finite. Got NaN or inf values instead.")
    err = orthogonality_error(M)
    if err > tol:
        raise ValueError(
            f"{name} must be orthogonal: max|MᵀM − I| <= {tol:g}. Got {err:.3g} instead."
        )
    return M


def check_cutoffs(k, name="k"):
    """Validate BLI cut-offs: a positive integer or a non-empty sequence of them.

    Returns them as a tuple of Python ints. ``True``, ``1.5``, ``2.0``, ``0`` and ``-1``
    are refused with a ``ValueError`` that names the offending value.
    """
    values = (k,) if isinstance(k, (numbers.Number, np.generic)) else k
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if not values:
        raise ValueError(f"{name} must be a positive integer or a non-empty tuple of them. "
                         f"Got {k!r} instead.")
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must be a positive integer or a tuple of positive integers "
                             f"(cut-offs such as 1, 5, 10). Got {v!r} in {name}={k!r} instead.")
    return tuple(int(v) for v in values)


#: Float matrices of at least this many entries are checked for NaN through BLAS.
FINITE_BLAS_MIN_SIZE = 1 << 20


def check_all_finite(arrays, names, estimator=None):
    """Raise scikit-learn's ``ValueError`` if any of ``arrays`` holds NaN or infinity.

    The check of ``check_array(..., ensure_all_finite=True)``, for validated float arrays,
    at about half its cost on large ones. Like scikit-learn's, it sums each array: the sum
    is finite whenever every entry is. A sum that is not finite is re-checked by
    ``check_array``, which raises its own message (or passes, when a finite array's sum
    merely overflowed). ``sklearn.config_context(assume_finite=True)`` skips it, as it
    does scikit-learn's.

    Summing is a memory-bound read, and one core reads at about half the speed of two. So
    a large matrix is summed as ``X @ 1`` by :func:`~sklearn_l1align._threads.blocked_product`:
    fixed row blocks, each a single-thread BLAS call, taken in turn by one Python thread per
    core (a core that another process holds takes fewer). Not at OpenBLAS's own threads:
    after a threaded call its worker threads spin for a while, and on two cores that spin
    took 6–16 ms from the single-thread GEMMs of the ``transform`` that follows, many times
    the sum's own time (20,000 × 300 float32; ``benchmarks/transform.py``'s second table).
    """
    if get_config()["assume_finite"]:
        return
    for array, name in zip(arrays, names):
        if not np.isfinite(_total(array)):
            check_array(array, dtype=None, ensure_all_finite=True, ensure_2d=False,
                        ensure_min_samples=0, ensure_min_features=0, input_name=name,
                        estimator=estimator)


def _total(X):
    """The sum of ``X``'s entries (NaN or ±inf when one of them is not finite)."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is re-checked, not warned
        if (X.ndim != 2 or X.dtype.kind != "f" or X.size < FINITE_BLAS_MIN_SIZE
                or not (X.flags.c_contiguous or X.flags.f_contiguous)):
            return np.sum(X)
        ones = np.ones((X.shape[1], 1), dtype=X.dtype)
        return float(blocked_product(X, ones).sum(dtype=np.float64))
