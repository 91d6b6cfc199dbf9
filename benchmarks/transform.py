"""``transform`` of a whole vocabulary: ``X @ M`` at the BLAS's own threads against ``blocked_product``.

``ProcrustesAligner.transform`` (and ``inverse_transform``, the selection's maps and the CLI's
output) computes ``X @ M`` with :func:`sklearn_l1align._threads.blocked_product`: fixed blocks
of 3,072 rows, each one single-thread GEMM, taken in turn by one Python thread per core. The
table gives, alone and while ``--hogs`` competing processes (default: one per usable core, a
NumPy product loop on one BLAS thread each) keep the cores busy, the median wall time of
``X @ M`` at the BLAS's default threads, of ``X @ M`` at one BLAS thread, and of
``blocked_product``, with the ratio of the first to the last and whether each result has the
one-thread product's bits.

    python benchmarks/transform.py                   # 200,000 × 300, float32 and float64, 5 repeats
    python benchmarks/transform.py --rows 20000 --repeats 1   # a check that it runs
"""

import argparse
import sys
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


if __name__ == "__main__":
    main()
