"""The products that are split over Python threads: whole at one BLAS thread, at the BLAS's own
threads, and split (each part one single-thread GEMM on its own Python thread).

For each product the package splits (the solvers' ``AM − B`` and ``AᵀG`` in float32 and
float64, a neighbour-search block, and the ℓ2 fit's ``AᵀB``, whose 384-row blocks run
several at once instead) it prints the median time of each way
over the repeats of one run, the split's speed-up over one thread, and whether each way
gives the single-thread bits (the split is used only where it does; OpenBLAS's own threads
are used only where they do). Then it times the whole solvers, as the package runs them
(products split where exact and faster) against every product whole at one thread.

    python benchmarks/split_products.py               # the paper-sized problem: 5,237 x 300
    python benchmarks/split_products.py --repeats 9
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import threadpoolctl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from busy_machine import median_time

from sklearn_l1align import StiefelFlowSolver, _procrustes, _threads
from sklearn_l1align._neighbors import SPLIT_ROW_ALIGN, _BlockProduct
from sklearn_l1align._procrustes import CROSS_PRODUCT_ROWS
from sklearn_l1align._solvers import ADMMSolver, HuberContinuationSolver, _products
from sklearn_l1align._solvers._products import ADJOINT_WAYS, ROW_ALIGN, _adjoint, _residual
from sklearn_l1align._threads import _cuts, blas_threads, max_blas_threads, single_blas_thread


#: Seconds to wait after OpenBLAS's threads were used, so that their spinning has stopped.
IDLE_SECONDS = 1.0


def _sequential_blocks(A, B):
    """The ℓ2 fit's blocked ``AᵀB``, one block after another at the threads as they are."""
    C = np.zeros((A.shape[1], B.shape[1]), A.dtype)
    for a in range(0, A.shape[0], CROSS_PRODUCT_ROWS):
        C += A[a:a + CROSS_PRODUCT_ROWS].T @ B[a:a + CROSS_PRODUCT_ROWS]
    return C


def _blocks(A, B, k):
    """The ℓ2 fit's blocked ``AᵀB`` as the package runs it on Python threads, ``k`` blocks at once."""
    real = _procrustes._FastestSplit
    _procrustes._FastestSplit = lambda candidates: real(candidates=(k,))
    try:
        C = np.zeros((A.shape[1], B.shape[1]), A.dtype)
        return _procrustes._blocks_on_python_threads(A, B, C, max(k, 2))
    finally:
        _procrustes._FastestSplit = real


def products(n, d, n_tgt, repeats, parts):
    rng = np.random.default_rng(0)
    rows = []
    for dtype in (np.float32, np.float64):
        A = rng.standard_normal((n, d)).astype(dtype)
        B = rng.standard_normal((n, d)).astype(dtype)
        M = rng.standard_normal((d, d)).astype(dtype)
        cuts = _cuts(n, parts, ROW_ALIGN)
        rows.append((f"AM − B, {n} × {d}, {np.dtype(dtype).name}",
                     lambda A=A, B=B, M=M: A @ M - B,
                     lambda A=A, B=B, M=M, cuts=cuts: _residual(A, M, B, cuts)))
        for way, align in ADJOINT_WAYS:
            cuts = _cuts(d, parts, align)
            rows.append((f"AᵀG by {way}, {n} × {d}, {np.dtype(dtype).name}",
                         lambda A=A, B=B: A.T @ B,
                         lambda A=A, B=B, cuts=cuts, way=way: _adjoint(A, B, cuts, way)))
    X = rng.standard_normal((512, d)).astype(np.float32)
    Y = rng.standard_normal((n_tgt, d)).astype(np.float32)
    block = _BlockProduct(X, Y, 512)
    # Separate buffers, the split's poisoned: a part left out cannot pass for computed.
    out_whole = np.empty((512, n_tgt), np.float32)
    out = np.full((512, n_tgt), np.nan, np.float32)
    # Each lambda binds its operands now (the names are reused below).
    cuts = _cuts(512, parts, SPLIT_ROW_ALIGN)
    rows.append((f"search block, 512 × {d} by {d} × {n_tgt}, float32",
                 lambda X=X, Y=Y, out=out_whole: np.matmul(X, Y.T, out=out),
                 lambda X=X, out=out, cuts=cuts: block._product(X, out, cuts)))
    A = rng.standard_normal((n, d)).astype(np.float32)
    B = rng.standard_normal((n, d)).astype(np.float32)
    rows.append((f"ℓ2 AᵀB, {n} × {d} in {CROSS_PRODUCT_ROWS}-row blocks, float32, blocks at once",
                 lambda A=A, B=B: _sequential_blocks(A, B), lambda A=A, B=B: _blocks(A, B, parts)))
    print(f"\n**Products, median of {repeats} (s); split into {parts} parts**\n")
    print("| product | 1 BLAS thread | BLAS's own threads | split | split speed-up | "
          "own threads: same bits | split: same bits |")
    print("|---|---|---|---|---|---|---|")
    for name, whole, split in rows:
        with blas_threads(parts):
            threaded = whole().copy()
            tn = median_time(whole, repeats)
        # OpenBLAS's idle worker threads spin for a while after a threaded call, taking a
        # core from what runs next: let them go to sleep before timing one thread.
        time.sleep(IDLE_SECONDS)
        with single_blas_thread():
            reference = whole().copy()
            t1 = median_time(whole, repeats)
            split_bits = np.array_equal(split(), reference)
            ts = median_time(split, repeats)
        own_bits = np.array_equal(threaded, reference)
        print(f"| {name} | {t1:.4f} | {tn:.4f} | {ts:.4f} | {t1 / ts:.2f}× | "
              f"{'yes' if own_bits else 'no'} | {'yes' if split_bits else 'no'} |")


def solvers(n, d, repeats):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((n, d))
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    B = A @ Q + 0.1 * rng.standard_normal((n, d))
    B[: n // 10] = rng.standard_normal((n // 10, d))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    make = {
        "VODE flow, 20 output steps": lambda: StiefelFlowSolver(max_time=2e-5, min_decrease=None),
        "Cayley flow, 50 steps": lambda: StiefelFlowSolver(integrator="cayley", max_time=2.5e-3,
                                                         min_decrease=None),
        "Huber continuation": lambda: HuberContinuationSolver(subgradient_iter=5, n_stages=2,
                                                              stage_iter=10),
        "ADMM, 20 iterations": lambda: ADMMSolver(max_iter=20),
    }
    print(f"\n**Solvers on {n} × {d} (10 % outliers), median of {repeats} (s)**\n")
    print("| solver | every product whole | as the package runs it | speed-up | same map |")
    print("|---|---|---|---|---|")
    real_min_flops = _products.SOLVER_MIN_FLOPS
    for name, solver in make.items():
        results, times = [], []
        for never in (True, False):
            # "Never split": the split threshold above any product.
            _products.SOLVER_MIN_FLOPS = np.inf if never else real_min_flops
            _threads._bit_checks.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                runs = []

                def run():
                    runs.append(solver().solve(A, B))

                times.append(median_time(run, repeats))
            results.append(runs[-1].rotation)
        _products.SOLVER_MIN_FLOPS = real_min_flops
        same = np.array_equal(*results)
        print(f"| {name} | {times[0]:.2f} | {times[1]:.2f} | {times[0] / times[1]:.2f}× | "
              f"{'yes' if same else 'no'} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5237)
    ap.add_argument("--d", type=int, default=300)
    ap.add_argument("--targets", type=int, default=20_000, help="candidates of the search block")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    parts = max_blas_threads()
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    blas = ", ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture')})" for i in info)
    print(f"BLAS: {blas}; {parts} usable cores")
    if parts < 2:
        sys.exit("needs two usable cores")
    products(args.n, args.d, args.targets, args.repeats, parts)
    solvers(args.n, args.d, max(3, args.repeats // 2))


if __name__ == "__main__":
    main()
