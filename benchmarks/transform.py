"""``transform`` of a whole vocabulary: ``X @ M`` at the BLAS's own threads against ``blocked_product``.

``ProcrustesAligner.transform`` (and ``inverse_transform``, the selection's maps and the CLI's
output) computes ``X @ M`` with :func:`sklearn_l1align._threads.blocked_product`: fixed blocks
of 3,072 rows, each one single-thread GEMM, taken in turn by one Python thread per core. The
table gives, alone and while ``--hogs`` competing processes (default: one per usable core, a
NumPy product loop on one BLAS thread each) keep the cores busy, the median wall time of
``X @ M`` at the BLAS's default threads, of ``X @ M`` at one BLAS thread, and of
``blocked_product``, with the ratio of the first to the last and whether each result has the
one-thread product's bits.

A second table (alone only) asks what a threaded BLAS call just before costs
``blocked_product``: after a call at OpenBLAS's own threads, its idle workers spin on the
cores for a while, against the single-thread GEMMs on the Python threads. For float32
``X`` of ``--spin-rows`` rows (default 20,000, the vocabulary of ``peers.py``'s
``fit_transform``), it times ``blocked_product(X, M)`` right after each preceding call (the
pair's median less the preceding call's own): nothing; ``X @ 1`` at one thread, at the
default threads (the finiteness check before e369986) and through ``blocked_product`` (the
check since); and a 5,000-row ``AᵀB`` at the default threads (the ℓ2 fit's before 0d07b34)
and on Python threads at one BLAS thread (since).

    python benchmarks/transform.py                   # 200,000 × 300, float32 and float64, 5 repeats
    python benchmarks/transform.py --rows 20000 --repeats 1   # a check that it runs
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from busy_machine import median_time, start_hogs, stop_hogs, usable_cores
from sklearn_l1align._threads import blas_threads, blocked_product, current_blas_threads


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--hogs", type=int, default=None)
    ap.add_argument("--spin-rows", type=int, default=20_000)
    args = ap.parse_args()
    hogs_n = usable_cores() if args.hogs is None else args.hogs
    rng = np.random.default_rng(0)
    M64 = np.linalg.qr(rng.standard_normal((args.dim, args.dim)))[0]
    X64 = rng.standard_normal((args.rows, args.dim))
    default = current_blas_threads()
    print(f"{args.rows:,} × {args.dim}, BLAS default threads {default}, median of {args.repeats}, "
          f"busy: {hogs_n} NumPy hog(s)\n")
    print("| dtype | load | X @ M, default threads (s) | X @ M, 1 thread (s) | blocked_product (s) "
          "| default / blocked | default = 1-thread bits | blocked = 1-thread bits |")
    print("|---|---|---|---|---|---|---|---|")
    for dtype in (np.float32, np.float64):
        X, M = X64.astype(dtype), M64.astype(dtype)
        with blas_threads(1):
            reference = X @ M
        same_default = np.array_equal(X @ M, reference)
        same_blocked = np.array_equal(blocked_product(X, M), reference)
        for load in ("alone", "busy"):
            hogs = start_hogs(hogs_n, "numpy") if load == "busy" else []
            try:
                t_default = median_time(lambda: X @ M, args.repeats)
                with blas_threads(1):
                    t_one = median_time(lambda: X @ M, args.repeats)
                t_blocked = median_time(lambda: blocked_product(X, M), args.repeats)
            finally:
                stop_hogs(hogs)
            print(f"| {np.dtype(dtype).name} | {load} | {t_default:.3f} | {t_one:.3f} | "
                  f"{t_blocked:.3f} | {t_default / t_blocked:.2f}x | {same_default} | {same_blocked} |")
    spin_after(args.spin_rows, args.dim, max(args.repeats, 15))


def spin_after(rows, dim, repeats):
    from sklearn_l1align._procrustes import _cross_product

    rng = np.random.default_rng(1)
    X = rng.standard_normal((rows, dim)).astype(np.float32)
    A, B = X[:5000], X[-5000:]
    M = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    ones, column = np.ones(dim, dtype=np.float32), np.ones((dim, 1), dtype=np.float32)

    def one_thread(fn):
        def call():
            with blas_threads(1):
                fn()
        return call

    before = {
        "nothing": lambda: None,
        "X @ 1, one BLAS thread": one_thread(lambda: X @ ones),
        "X @ 1, default threads (the finiteness check before)": lambda: X @ ones,
        "X @ 1 through blocked_product (the check now)": lambda: blocked_product(X, column),
        "AᵀB (5,000 rows), default threads (the ℓ2 fit's before)": lambda: A.T @ B,
        "AᵀB (5,000 rows), Python threads (_cross_product now)": lambda: _cross_product(A, B),
    }
    time.sleep(1)
    alone = median_time(lambda: blocked_product(X, M), repeats)
    print(f"\n{rows:,} × {dim} float32, alone, median of {repeats}: blocked_product after "
          f"another call\n")
    print("| preceding call | its time (ms) | blocked_product after it (ms) | extra (ms) |")
    print("|---|---|---|---|")
    for name, fn in before.items():
        time.sleep(1)  # the last row's spinning BLAS threads, if any, go back to sleep
        t_pre = median_time(fn, repeats)
        t_both = median_time(lambda fn=fn: (fn(), blocked_product(X, M)), repeats)
        print(f"| {name} | {1e3 * t_pre:.1f} | {1e3 * (t_both - t_pre):.1f} | "
              f"{1e3 * (t_both - t_pre - alone):+.1f} |", flush=True)


if __name__ == "__main__":
    main()
