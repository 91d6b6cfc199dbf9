"""The shared BLAS thread controller (``_threads.controller``) and the blocked product."""

import sys
import threading
import types

import numpy as np
import pytest

from sklearn_l1align import _threads
from sklearn_l1align._threads import (
    _run_parts,
    blas_threads,
    blocked_product,
    checked_once,
    controller,
    current_blas_threads,
    single_blas_thread,
)


def test_controller_is_kept_until_a_module_is_imported(monkeypatch):
    first = controller()
    assert controller() is first
    monkeypatch.setitem(sys.modules, "_l1align_fake_late_import", types.ModuleType("fake"))
    second = controller()
    assert second is not first
    assert controller() is second


def test_limits_through_the_shared_controller_nest_and_restore():
    before = current_blas_threads()
    with blas_threads(1):
        assert current_blas_threads() == 1
        with blas_threads(1):
            assert current_blas_threads() == 1
        assert current_blas_threads() == 1
    assert current_blas_threads() == before
    assert _threads._cached["controller"] is controller()


# ----------------------------------------------------------------------- blocked_product
def _single_thread(X, M):
    with single_blas_thread():
        return X @ M


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 383, 384, 1000, 2000])
def test_blocked_product_has_one_single_thread_products_bits(dtype, n):
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 300)).astype(dtype)
    M = np.linalg.qr(rng.standard_normal((300, 300)))[0].astype(dtype)
    expected = _single_thread(X, M)
    for workers in (1, 2, 3):
        got = blocked_product(X, M, block_rows=384, workers=workers)
        assert got.dtype == dtype and got.shape == (n, 300)
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocked_product_does_not_follow_the_callers_blas_threads(dtype):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((7000, 300)).astype(dtype)  # three default blocks, the last short
    M = rng.standard_normal((300, 300)).astype(dtype)
    results = []
    for n in (1, 2):
        with blas_threads(n):
            results.append(blocked_product(X, M))
            assert current_blas_threads() == n  # the hold is released
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], _single_thread(X, M))
    np.testing.assert_array_equal(blocked_product(X, M.T), _single_thread(X, M.T))


def test_blocked_product_computes_in_dtype_block_by_block():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((1000, 50)).astype(np.float32)
    M = rng.standard_normal((50, 40))
    got = blocked_product(X, M, dtype=np.float64, out_dtype=np.float32, block_rows=192,
                          workers=2)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, _single_thread(X.astype(np.float64), M).astype(np.float32))


def test_pool_parts_run_under_the_callers_errstate():
    # NumPy's errstate is per thread: a part computed on the pool must ignore, or raise on,
    # an overflow as the caller asked, not fall back to the pool thread's "warn".
    import warnings

    from sklearn_l1align._threads import _run_parts

    huge = np.full((64, 8), 3e38, dtype=np.float32)
    got = []

    def overflow():  # runs on a pool thread: it is not the first job
        got.append(huge @ huge[:8].T)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):
            _run_parts([lambda: None, overflow])
            assert np.isinf(blocked_product(huge, huge[:8].T, block_rows=8, workers=2)).all()
    assert np.isinf(got[0]).all()
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        _run_parts([lambda: None, overflow])


def test_blocked_product_computes_in_the_vectors_dtype_by_default():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1000, 50)).astype(np.float32)
    M = rng.standard_normal((50, 40))  # float64, as rotation_ is
    got = blocked_product(X, M, block_rows=192, workers=2)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(
        got, blocked_product(X, M.astype(np.float32), block_rows=192, workers=2))
    np.testing.assert_array_equal(blocked_product(X, M), _single_thread(X, M.astype(np.float32)))
    ints = np.arange(12).reshape(4, 3)  # integer vectors: numpy's promotion, not integer GEMM
    got = blocked_product(ints, M[:3, :2])
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ints @ M[:3, :2], rtol=1e-15)


def test_checked_once_runs_each_check_once_per_key(monkeypatch):
    from sklearn_l1align import _threads

    monkeypatch.setattr(_threads, "_bit_checks", {})
    calls = []

    def check(answer):
        return lambda: calls.append(answer) or answer

    assert checked_once(("a", 1), check(True)) is True
    assert checked_once(("a", 1), check(False)) is True  # the first answer stands
    assert checked_once(("b", 1), check(0)) is False  # another key, checked, made a bool
    assert calls == [True, 0]


def test_run_parts_stop_ends_the_other_jobs_when_the_first_raises():
    stop, started, polls = threading.Event(), threading.Event(), []

    def first():
        started.wait(5)
        raise KeyboardInterrupt

    def other():
        started.set()
        while not stop.is_set() and len(polls) < 10_000:
            polls.append(stop.wait(0.001))

    with pytest.raises(KeyboardInterrupt):
        _run_parts([first, other], stop=stop)
    assert stop.is_set() and len(polls) < 10_000


def test_transform_and_inverse_do_not_follow_the_callers_blas_threads():
    from sklearn_l1align import ProcrustesAligner

    rng = np.random.default_rng(3)
    X = rng.standard_normal((7000, 300))
    Q = np.linalg.qr(rng.standard_normal((300, 300)))[0]
    est = ProcrustesAligner(dictionary="paired").fit(X[:500], X[:500] @ Q)
    with blas_threads(1):
        one = est.transform(X), est.inverse_transform(X)
    with blas_threads(2):
        two = est.transform(X), est.inverse_transform(X)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(one[0], X @ est.rotation_, rtol=0, atol=1e-12)


def test_transform_keyed_vectors_with_a_matrix_does_not_follow_the_callers_blas_threads():
    pytest.importorskip("gensim")
    from sklearn_l1align.gensim import keyed_vectors_from_arrays, transform_keyed_vectors

    rng = np.random.default_rng(4)
    X = rng.standard_normal((7000, 300)).astype(np.float32)
    kv = keyed_vectors_from_arrays([f"w{i}" for i in range(len(X))], X)
    M = np.linalg.qr(rng.standard_normal((300, 300)))[0]
    mapped = []
    for n in (1, 2):
        with blas_threads(n):
            mapped.append(transform_keyed_vectors(kv, M).vectors)
    np.testing.assert_array_equal(mapped[0], mapped[1])
    expected = _single_thread(X.astype(np.float64), M).astype(mapped[0].dtype)
    np.testing.assert_array_equal(mapped[0], expected)
