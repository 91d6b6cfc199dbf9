"""How far each minimiser gets with more work, and where VODE's orthogonality stop falls.

On the induced fr→ru dictionary from the strong base (the problem of
``benchmarks/vode_speed.py --real fr-ru``):

1. ``RiemannianSubgradientSolver`` at ``max_iter`` 300 / 1,000 / 3,000,
   ``HuberContinuationSolver`` at ``stage_iter`` 40 / 100 / 200 and ``ADMMSolver`` with its
   defaults: wall time, iterations, stop and ℓ1 loss change.
2. ``StiefelFlowSolver()`` (VODE, the paper's settings) to its own stop on the float32-rounded
   A and B with ``gemm_dtype`` float32 and float64: the flow time of the orthogonality stop.

    python benchmarks/solver_effort.py              # both parts (about 5 minutes)
    python benchmarks/solver_effort.py --part 1
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vode_speed import real  # noqa: E402

from sklearn_l1align import (  # noqa: E402
    ADMMSolver,
    HuberContinuationSolver,
    RiemannianSubgradientSolver,
    StiefelFlowSolver,
)


def run(solver, A, B):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter and orthogonality stops are in the table
        res = solver.solve(A, B)
    return res, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", type=int, choices=[1, 2], nargs="+", default=[1, 2])
    args = ap.parse_args()
    A, B = real("fr-ru")
    print(f"# fr→ru, strong base: {A.shape[0]} pairs x {A.shape[1]} dims")
    if 1 in args.part:
        print("\n| solver | setting | wall s | iterations | stop | Δ ℓ1 loss |\n|---|---|---|---|---|---|")
        rows = [(RiemannianSubgradientSolver(max_iter=m), f"max_iter={m}") for m in (300, 1000, 3000)]
        rows += [(HuberContinuationSolver(stage_iter=s), f"stage_iter={s}") for s in (40, 100, 200)]
        rows += [(ADMMSolver(), "defaults")]
        for solver, setting in rows:
            res, wall = run(solver, A, B)
            print(f"| {type(solver).__name__} | {setting} | {wall:.1f} | {res.n_steps} | "
                  f"{res.stop_reason.value} | {res.loss - res.initial_loss:.1f} |", flush=True)
    if 2 in args.part:
        A32, B32 = A.astype(np.float32), B.astype(np.float32)
        print("\n| VODE gemm_dtype | wall s | stop | t | Δ ℓ1 loss | max abs(MᵀM − I) |\n|---|---|---|---|---|---|")
        for dt in ("float32", "float64"):
            res, wall = run(StiefelFlowSolver(gemm_dtype=dt), A32, B32)
            print(f"| {dt} | {wall:.1f} | {res.stop_reason.value} | {res.t:.3g} | "
                  f"{res.loss - res.initial_loss:.2f} | {res.orthogonality_error:.1e} |", flush=True)


if __name__ == "__main__":
    main()
