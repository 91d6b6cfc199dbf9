"""The solvers' split products (``_solvers._products``): the single-thread bits, on more cores."""

import threading
import warnings

import numpy as np
import pytest
from _solver_helpers import blas_thread_counts, outlier_problem
from numpy.testing import assert_array_equal

from sklearn_l1align import StiefelFlowSolver, _threads
from sklearn_l1align._solvers import (
    ADMMSolver,
    HuberContinuationSolver,
    RiemannianSubgradientSolver,
    _products,
)
from sklearn_l1align._solvers._products import (
    ADJOINT_WAYS,
    REMEASURE_EVERY,
    ROW_ALIGN,
    SolverProducts,
    _cuts,
    _residual,
    _run_parts,
    split_is_exact,
)
from sklearn_l1align._threads import blas_threads, single_blas_thread


def _problem(n, d, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)).astype(dtype), rng.standard_normal((n, d)).astype(dtype),
            rng.standard_normal((d, d)), rng.standard_normal((n, d)))


@pytest.mark.parametrize("length, parts, align", [(5237, 2, 64), (300, 2, 16), (300, 3, 16),
                                                  (100, 2, 64), (40, 4, 16), (10, 2, 16)])
def test_cuts_cover_the_range_once_with_aligned_inner_edges(length, parts, align):
    cuts = _cuts(length, parts, align)
    assert cuts[0][0] == 0 and cuts[-1][1] == length
    assert all(a < b for a, b in cuts)
    assert all(b == c for (_, b), (c, _) in zip(cuts, cuts[1:]))
    assert all(b % align == 0 for _, b in cuts[:-1])
    assert len(cuts) <= parts


def _whole(A, B, M, G):
    with single_blas_thread():
        return A @ M.astype(A.dtype) - B, (A.T @ G.astype(A.dtype)).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, d", [(5237, 300), (4000, 300), (1000, 120), (3000, 500), (2049, 40)])
def test_a_product_split_as_it_is_used_has_the_bits_of_one_single_thread_product(
        monkeypatch, n, d, dtype):
    # Whatever this BLAS allows: a product is split only where split_is_exact said its
    # parts give the whole single-thread product's bits, and then its split call does.
    monkeypatch.setattr(_products, "SOLVER_MIN_FLOPS", 0.0)
    monkeypatch.setattr(_threads, "_bit_checks", {})
    A, B, M, G = _problem(n, d, dtype)
    products = SolverProducts(A, B, parts=2)
    whole_R, whole_C = _whole(A, B, M, G)
    with single_blas_thread():
        for k in (1, 2):  # whole, then split where allowed
            for split in (products.residual_split, products.adjoint_split):
                if split is not None:
                    split.chosen = k
            assert_array_equal(products.residual(M), whole_R)
            C = products.adjoint(G)
            assert C.dtype == np.float64
            assert_array_equal(C, whole_C)
    # The exactness check is the oracle comparison itself, at every way it allowed.
    if products.residual_split is not None:
        with single_blas_thread():
            assert_array_equal(_residual(A, M.astype(dtype), B, products.rows), whole_R)
    if products.adjoint_split is not None:
        assert products.adjoint_way in dict(ADJOINT_WAYS)
        assert len(products.adjoint_cuts) == 2
        assert all(b % dict(ADJOINT_WAYS)[products.adjoint_way] == 0
                   for _, b in products.adjoint_cuts[:-1])


def test_this_machines_blas_splits_the_papers_float32_problem_exactly():
    # Not a property of the package, but of the BLAS it runs on: say which, so that a
    # machine on which the solvers never split (and gain nothing) is seen, not hidden.
    A, B, _, _ = _problem(5237, 300)
    products = SolverProducts(A, B, parts=2)
    if products.residual_split is None or products.adjoint_split is None:
        pytest.skip("this machine's BLAS computes other bits for every split of the "
                    "5,237 × 300 products tried: the solvers run them whole")
    assert products.adjoint_way in dict(ADJOINT_WAYS)


def test_split_is_exact_refuses_a_split_whose_bits_differ(monkeypatch):
    monkeypatch.setattr(_threads, "_bit_checks", {})
    A, B, _, _ = _problem(1100, 64)
    rows = _cuts(1100, 2, ROW_ALIGN)

    def off_by_one_ulp(*args):
        R = _residual(*args)
        R[-1, -1] = np.nextafter(R[-1, -1], np.inf)
        return R

    monkeypatch.setattr(_products, "_residual", off_by_one_ulp)
    assert split_is_exact("residual", A, rows, B) is False
    monkeypatch.setattr(_products, "SOLVER_MIN_FLOPS", 0.0)
    assert SolverProducts(A, B, parts=2).residual_split is None


def test_split_runs_its_parts_on_two_threads_at_one_blas_thread_each(monkeypatch):
    A, B, M, _ = _problem(2000, 300)
    products = SolverProducts(A, B, parts=2)
    monkeypatch.setattr(products, "residual_split",
                        _products._FastestSplit(candidates=(2,)))  # as if exact here
    parts = []
    real = np.matmul

    def matmul(*args, **kwargs):
        parts.append((threading.get_ident(), set(blas_thread_counts().values())))
        return real(*args, **kwargs)

    with blas_threads(2), single_blas_thread():
        monkeypatch.setattr(np, "matmul", matmul)
        products.residual(M)
        monkeypatch.setattr(np, "matmul", real)
    assert len(parts) == 2
    assert len({ident for ident, _ in parts}) == 2  # two Python threads
    assert all(counts == {1} for _, counts in parts)  # each on one BLAS thread


@pytest.mark.parametrize("case", ["small", "one part", "caller on one thread", "not exact"])
def test_products_are_never_split_when_they_must_not_or_need_not_be(monkeypatch, case):
    A, B, M, G = _problem(2000, 300)
    kwargs = {}
    if case == "small":
        A, B = A[:500, :100], B[:500, :100]  # 1e7 flops
        M, G = M[:100, :100], G[:500, :100]
    if case == "one part":
        kwargs["parts"] = 1
    if case == "not exact":
        monkeypatch.setattr(_products, "split_is_exact", lambda *args: False)
    with blas_threads(1 if case == "caller on one thread" else 2):
        products = SolverProducts(A, B, **kwargs)
    assert products.residual_split is None and products.adjoint_split is None
    with single_blas_thread():
        assert_array_equal(products.residual(M), A @ M.astype(A.dtype) - B)
        assert_array_equal(products.adjoint(G), (A.T @ G.astype(A.dtype)).astype(np.float64))


def test_split_is_exact_is_checked_once_per_shape_and_on_first_use(monkeypatch):
    A, B, _, _ = _problem(1100, 64)
    calls = []
    real = _products._adjoint
    monkeypatch.setattr(_products, "_adjoint", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(_threads, "_bit_checks", {})
    monkeypatch.setattr(_products, "SOLVER_MIN_FLOPS", 0.0)
    products = SolverProducts(A, B, parts=2)
    assert calls == []  # nothing checked until the adjoint is used
    first = products.adjoint_split
    checked = len(calls)
    assert checked >= 1
    assert SolverProducts(A, B, parts=2).adjoint_split is None or first is not None
    assert len(calls) == checked  # the same shape again: from the cache
    cuts = _cuts(64, 2, ADJOINT_WAYS[0][1])
    split_is_exact("adjoint", A[:-1], cuts, ADJOINT_WAYS[0][0])
    assert len(calls) == checked + 1  # another shape


def test_a_part_that_raises_waits_for_the_others_and_propagates():
    done = []

    def slow():
        threading.Event().wait(0.05)
        done.append("slow")

    def fail():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run_parts([fail, slow])
    assert done == ["slow"]  # finished before the interrupt reached the caller

    def boom():
        raise ValueError("in a worker")

    with pytest.raises(ValueError, match="in a worker"):
        _run_parts([lambda: None, boom])


def test_the_choice_is_measured_again_every_remeasure_every_calls():
    # Whole takes 1 s and split 3 s; then, the load gone, split takes 0.5 s.
    seconds = {1: 1.0, 2: 3.0}
    now = [0.0]

    def fn(k):
        now[0] += seconds[k]
        return k

    choice = _products._FastestSplit(candidates=(1, 2), timer=lambda: now[0], remeasure_every=5)
    assert [choice.run(fn) for _ in range(2)] == [1, 2] and choice.chosen == 1
    assert [choice.run(fn) for _ in range(5)] == [1] * 5
    seconds[2] = 0.5
    assert [choice.run(fn) for _ in range(3)] == [1, 2, 2]  # measured again after 5 calls
    assert choice.chosen == 2


def test_the_first_measurements_again_come_sooner_then_every_remeasure_every_calls():
    # The first choice is the likeliest to be wrong (taken while an earlier threaded call's
    # BLAS threads still spin): measured again after 16 calls, then 32, 64, ... up to 100.
    from sklearn_l1align._threads import FIRST_REMEASURE

    now = [0.0]

    def fn(k):
        now[0] += {1: 1.0, 2: 2.0}[k]
        return k

    choice = _products._FastestSplit(candidates=(1, 2), timer=lambda: now[0], remeasure_every=100)
    calls = [choice.run(fn) for _ in range(600)]
    measured = [i for i, k in enumerate(calls) if k == 2]  # each measurement's slower call
    gaps = np.diff(measured) - 2  # calls at the chosen count between two measurements
    assert FIRST_REMEASURE == 16
    assert gaps.tolist()[:4] == [16, 32, 64, 100] and set(gaps.tolist()[3:]) == {100}


def test_remeasure_every_none_keeps_the_first_choice():
    now = [0.0]

    def fn(k):
        now[0] += {1: 1.0, 2: 2.0}[k]
        return k

    choice = _products._FastestSplit(candidates=(1, 2), timer=lambda: now[0])
    assert [choice.run(fn) for _ in range(3 * REMEASURE_EVERY)][2:] == [1] * (3 * REMEASURE_EVERY - 2)


_SOLVERS = [
    ("vode", lambda: StiefelFlowSolver(max_time=5e-6, ortho_tol=1.0, min_decrease=None)),
    ("cayley", lambda: StiefelFlowSolver(integrator="cayley", max_time=5e-4, min_decrease=None)),
    ("subgradient", lambda: RiemannianSubgradientSolver(max_iter=15)),
    ("huber", lambda: HuberContinuationSolver(subgradient_iter=3, n_stages=2, stage_iter=5)),
    ("admm", lambda: ADMMSolver(max_iter=10)),
]


@pytest.mark.parametrize("name, make", _SOLVERS, ids=[name for name, _ in _SOLVERS])
def test_every_solver_gives_the_same_bits_split_or_whole(monkeypatch, name, make):
    # 1,100 × 120 is under SOLVER_MIN_FLOPS: lowered, so that the products are split.
    monkeypatch.setattr(_products, "SOLVER_MIN_FLOPS", 0.0)
    A, B, _, _ = outlier_problem(1100, 120, seed=3)
    runs, splits = [], []
    real = _products._FastestSplit
    for k in (1, 2):
        made = []

        def forced(candidates, remeasure_every, k=k):
            made.append(real(candidates=(k,), remeasure_every=remeasure_every))
            return made[-1]

        monkeypatch.setattr(_products, "_FastestSplit", forced)
        with blas_threads(2), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs.append(make().solve(A, B))
        splits.append(made)
    if not splits[1]:
        pytest.skip("this BLAS gives other bits for the split products at 1,100 × 120: "
                    "the solvers do not split them here")
    whole, split = runs
    assert whole.n_rhs == split.n_rhs and whole.n_steps == split.n_steps >= 3
    assert_array_equal(whole.loss_curve, split.loss_curve)
    assert_array_equal(whole.rotation, split.rotation)
