"""The whole pipeline on two synthetic 200,000 × 300 float32 spaces: wall time and peak RSS per stage.

The target space is the source rotated by a random orthogonal ``R`` plus Gaussian noise,
row ``i`` translating row ``i`` (a planted, easy problem: cosine of a true pair about
``1/sqrt(1 + noise²)``, of a random pair about ``±1/sqrt(dim)``). Stages:

=================  ===================================================================
stage              what runs
=================  ===================================================================
generate           the two spaces, fixed seed (setup; not part of the pipeline)
normalise          ``normalize_embeddings`` (unit, center, unit) of both spaces
l2                 ``ProcrustesAligner`` on 5,000 seed pairs (rows 0–4,999)
dictionary 10k     ``CSLSDictionaryBuilder(max_rank=10_000)`` (CSLS-10, mutual)
dictionary all     ``CSLSDictionaryBuilder(max_rank=None)``: all rows against all rows
l1                 ``L1ProcrustesAligner`` with ``StiefelFlowSolver(integrator="cayley")``
                   on the 10k dictionary
bli                ``bli_precision`` (CSLS-10) of 1,500 test queries against all targets
=================  ===================================================================

Every stage runs in a fresh Python subprocess, which loads its inputs from ``.npy`` files
written by the stage before it, so the peak resident set size (``ru_maxrss``) reported is
that stage's own. "inputs" is the peak RSS once the interpreter, NumPy and the inputs are
loaded, before the timed work. "CPU s" is user + system time of the stage (all threads):
on a machine shared with other jobs it shows the work done, where wall time also shows
the waiting. Blocks: every pass over ``n × n`` scores walks ``batch_size`` (default 512)
source rows at a time, so a stage holds ``batch_size × n`` float32 scores (about 400 MB
at 200,000 rows), never ``n × n`` (160 GB).

Usage::

    python benchmarks/scale.py                    # 200,000 rows (under 10 minutes on 2 cores)
    python benchmarks/scale.py --rows 50000       # the variant tests/test_scale.py runs
    python benchmarks/scale.py --json results.json

Prints a markdown table.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ("generate", "normalise", "l2", "dictionary_10k", "dictionary_all", "l1", "bli")
LABELS = {
    "generate": "generate (setup)",
    "normalise": "normalise (unit, center, unit)",
    "l2": "ℓ2 Procrustes, 5,000 seed pairs",
    "dictionary_10k": "CSLS dictionary, max_rank=10,000",
    "dictionary_all": "CSLS dictionary, max_rank=None",
    "l1": "ℓ1 refinement (Cayley flow), 10k dictionary",
    "bli": "CSLS BLI, 1,500 queries × all targets",
}
#: The memory bound of issue 7.
PEAK_RSS_BOUND = 6 * 2**30
N_SEED = 5_000
N_TEST = 1_500
MAX_RANK = 10_000


def _peak_rss_bytes():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return rss if platform.system() == "Darwin" else rss * 1024


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- stages
# Each takes the work folder and the options, loads what it needs, and returns
# (timed function, result summary function).


def _load(work, *names):
    import numpy as np

    return [np.load(work / f"{name}.npy") for name in names]


def _save(work, **arrays):
    import numpy as np

    for name, array in arrays.items():
        np.save(work / f"{name}.npy", array)


def _orthogonality(M):
    import numpy as np

    return float(np.abs(M.T @ M - np.eye(M.shape[0])).max())


def stage_generate(work, opts):
    import numpy as np
    from scipy.stats import special_ortho_group

    def run():
        rng = np.random.default_rng(opts.seed)
        X = rng.standard_normal((opts.rows, opts.dim), dtype=np.float32)
        R = special_ortho_group.rvs(opts.dim, random_state=opts.seed).astype(np.float32)
        Y = X @ R
        Y += np.float32(opts.noise) * rng.standard_normal((opts.rows, opts.dim), dtype=np.float32)
        # Test queries: distinct rows outside the seed pairs.
        test = np.sort(rng.choice(np.arange(N_SEED, opts.rows), size=min(N_TEST, opts.rows - N_SEED),
                                  replace=False))
        _save(work, X=X, Y=Y, R=R, test=test)
        return {"rows": opts.rows, "dim": opts.dim, "noise": opts.noise}

    return run


def stage_normalise(work, opts):
    X, Y = _load(work, "X", "Y")

    def run():
        import numpy as np

        from sklearn_l1align import normalize_embeddings

        # In place: the loaded arrays belong to this stage, so no copy is needed.
        Xn, Yn = normalize_embeddings(X, copy=False), normalize_embeddings(Y, copy=False)
        _save(work, Xn=Xn, Yn=Yn)
        norms = np.linalg.norm(Xn, axis=1)
        return {"dtype": str(Xn.dtype), "max abs(norm − 1)": float(np.abs(norms - 1).max())}

    return run


def stage_l2(work, opts):
    Xn, Yn = _load(work, "Xn", "Yn")

    def run():
        import numpy as np

        from sklearn_l1align import ProcrustesAligner

        seed = np.column_stack([np.arange(N_SEED), np.arange(N_SEED)])
        aligner = ProcrustesAligner().fit(Xn, Yn, pairs=seed)
        M = aligner.rotation_
        _save(work, M2=M, Xm=aligner.transform(Xn))
        return {"orthogonality": _orthogonality(M)}

    return run


def _dictionary_stage(max_rank, name):
    def stage(work, opts):
        Xm, Yn = _load(work, "Xm", "Yn")

        def run():
            import logging

            import numpy as np

            from sklearn_l1align import CSLSDictionaryBuilder

            rescored = []

            class Recorder(logging.Handler):
                def emit(self, record):
                    if "rows rescored" in record.msg:
                        rescored.append(record.args[0] / record.args[1])

            neighbours = logging.getLogger("sklearn_l1align._neighbors")
            neighbours.setLevel(logging.DEBUG)
            neighbours.addHandler(Recorder())
            pairs = CSLSDictionaryBuilder(max_rank=max_rank, batch_size=opts.batch_size).build(Xm, Yn)
            _save(work, **{name: pairs})
            return {"pairs": len(pairs), "correct": float(np.mean(pairs[:, 0] == pairs[:, 1])),
                    "rows re-scored": rescored[-1] if rescored else None}

        return run

    return stage


stage_dictionary_10k = _dictionary_stage(MAX_RANK, "pairs_10k")
stage_dictionary_all = _dictionary_stage(None, "pairs_all")


def stage_l1(work, opts):
    Xm, Yn, pairs = _load(work, "Xm", "Yn", "pairs_10k")

    def run():
        from sklearn_l1align import L1ProcrustesAligner, StiefelFlowSolver

        aligner = L1ProcrustesAligner(solver=StiefelFlowSolver(integrator="cayley"))
        aligner.fit(Xm, Yn, pairs=pairs)
        _save(work, X1=aligner.transform(Xm))
        result = aligner.solver_result_
        return {"orthogonality": _orthogonality(aligner.rotation_), "stop": result.stop_reason.value,
                "loss": [result.initial_loss, result.loss], "steps": result.n_steps}

    return run


def stage_bli(work, opts):
    X1, Yn, test = _load(work, "X1", "Yn", "test")

    def run():
        import numpy as np

        from sklearn_l1align.metrics import bli_precision

        result = bli_precision(X1, Yn, np.column_stack([test, test]), k=(1, 5, 10),
                               method="csls", batch_size=opts.batch_size)
        return {"queries": result.n_queries, **{f"P@{k}": p for k, p in result.precision.items()}}

    return run


# --------------------------------------------------------------------------- driver


def run_stage(name, work, opts):
    """Run one stage in this process and return its measurements."""
    sys.path.insert(0, str(REPO))
    import threadpoolctl  # noqa: F401  (imported before timing: part of the baseline)

    run = globals()[f"stage_{name}"](work, opts)
    baseline = _peak_rss_bytes()
    cpu0, wall0 = _cpu_seconds(), time.perf_counter()
    summary = run()
    return {
        "stage": name,
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": _cpu_seconds() - cpu0,
        "inputs_rss": baseline,
        "peak_rss": _peak_rss_bytes(),
        "result": summary,
    }


def _stage_subprocess(name, work, opts):
    cmd = [sys.executable, __file__, "--stage", name, "--work", str(work), "--rows", str(opts.rows),
           "--dim", str(opts.dim), "--noise", str(opts.noise), "--seed", str(opts.seed),
           "--batch-size", str(opts.batch_size)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"stage {name} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _gib(n_bytes):
    return f"{n_bytes / 2**30:.2f}"


def _format_result(result):
    parts = []
    for key, value in result.items():
        if isinstance(value, float):
            value = f"{value:.3g}"
        elif isinstance(value, list):
            value = " → ".join(f"{v:.6g}" for v in value)
        parts.append(f"{key} {value}")
    return ", ".join(parts)


def markdown(rows, opts, total_wall):
    lines = [
        (f"{opts.rows:,} × {opts.dim} float32 per space, noise {opts.noise}, batch_size "
         f"{opts.batch_size}, {os.cpu_count()} CPUs, load average at the end "
         f"{os.getloadavg()[0]:.1f}"),
        "",
        "| stage | wall s | CPU s | inputs RSS GiB | peak RSS GiB | result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(f"| {LABELS[row['stage']]} | {row['wall_s']:.1f} | {row['cpu_s']:.1f} | "
                     f"{_gib(row['inputs_rss'])} | {_gib(row['peak_rss'])} | "
                     f"{_format_result(row['result'])} |")
    pipeline = [r for r in rows if r["stage"] != "generate"]
    lines.append(f"| **pipeline (without generate)** | {sum(r['wall_s'] for r in pipeline):.1f} | "
                 f"{sum(r['cpu_s'] for r in pipeline):.1f} | | "
                 f"{_gib(max(r['peak_rss'] for r in rows))} | |")
    lines.append("")
    lines.append(f"Total wall time including process start-up and file hand-over: {total_wall:.1f} s.")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows per space (default 200000)")
    parser.add_argument("--dim", type=int, default=300, help="dimension (default 300)")
    parser.add_argument("--noise", type=float, default=1.0,
                        help="standard deviation of the target noise (default 1.0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=512,
                        help="source rows per block in the dictionary and BLI passes (default 512)")
    parser.add_argument("--json", metavar="PATH", help="also write the measurements as JSON")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.rows <= N_SEED + N_TEST:
        parser.error(f"--rows must exceed {N_SEED + N_TEST} (seed pairs + test queries). Got {opts.rows} instead.")
    return opts


def main(argv=None):
    opts = parse_args(argv)
    if opts.stage is not None:
        print(json.dumps(run_stage(opts.stage, Path(opts.work), opts)))
        return 0
    start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="l1align-scale-") as work:
        for name in STAGES:
            rows.append(_stage_subprocess(name, Path(work), opts))
            print(f"{LABELS[name]}: {rows[-1]['wall_s']:.1f} s, peak {_gib(rows[-1]['peak_rss'])} GiB",
                  file=sys.stderr, flush=True)
    total = time.perf_counter() - start
    print(markdown(rows, opts, total))
    if opts.json:
        with open(opts.json, "w", encoding="utf-8") as f:
            json.dump({"options": vars(opts), "stages": rows, "total_wall_s": total,
                       "peak_rss_bound": PEAK_RSS_BOUND}, f, indent=2)
    over = [r["stage"] for r in rows if r["peak_rss"] >= PEAK_RSS_BOUND]
    if over:
        print(f"Peak RSS reached the {_gib(PEAK_RSS_BOUND)} GiB bound in: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
