"""The ``l1align`` command: align, refine and evaluate cross-lingual word embeddings from files.

**Subcommands.**

``l1align align SRC TGT --seed-dict D -o OUT``
    Supervised ℓ2 Procrustes on the seed dictionary, then (by default) ℓ1 refinement.
``l1align refine SRC TGT -o OUT``
    ℓ1 refinement (Peng, Lin & Stevenson 2021, Algorithm 1) of spaces already aligned.
``l1align evaluate SRC TGT --dict TEST``
    BLI precision@1/5/10 by NN and CSLS-10, with the dictionary's coverage.
``l1align demo``
    The built-in French-Russian sample, end to end, in a few seconds.

**Outputs.**
``-o OUT`` names the mapped source embeddings (word2vec text; binary when the name
ends in ``.bin`` or ``.bin.gz``; gzip when it ends in ``.gz``). Beside it go
``BASE.mapping.npz``, the orthogonal map ``M`` (pickle-free, see
:func:`sklearn_l1align.io.save_mapping`), and ``BASE.report.json``, the settings and
measurements, where ``BASE`` is ``OUT`` without ``.gz`` and ``.vec``/``.txt``/``.bin``.
``OUT`` holds ``SRC @ M``: the source vectors as read, rotated into the target space,
without the normalisation baked in (see below).

The output folder is checked before any work starts. All outputs are first written
into a hidden staging folder beside them and moved into place together at the end,
so an error or Ctrl-C leaves earlier outputs as they were and no partial file. A run
killed outright (SIGKILL) while moving them can leave its hidden
``.l1align-<host>-<pid>-*.partial`` folder; the next run that writes to the same folder
removes it, with a warning.

**Normalisation.**
Every command normalises *both* inputs as it reads them, with ``--normalize`` (default
``unit center unit``, VecMap's chain; ``none`` to read the vectors as they are), and
fits on the normalised spaces. Unit-length scaling and centring commute with
orthogonal maps, ``normalise(X @ M) == normalise(X) @ M``, but the chain is not
idempotent (centring a unit-length space and rescaling moves it again). So outputs
are written in the coordinates of the input, ``SRC @ M``, not normalised: reading
``OUT`` back with the same ``--normalize`` (as ``evaluate`` and ``refine`` do by
default) gives exactly the space that was fitted and scored, and the mapping applies
to raw and normalised source vectors alike. (VecMap's ``unitdim`` standardises each
dimension, which does not commute with rotations; it is not offered here.)

**Exit status.**
0 success; 2 usage or input error (bad arguments, missing or malformed files, a
missing output folder, a dictionary with no word in vocabulary); 1 any other
failure (e.g. a disk error while writing); 130 interrupted (Ctrl-C). Errors print a
one-line ``l1align: error: ...`` message to stderr, without a traceback (``-vv``
adds the traceback of unexpected errors).

Progress goes to stderr through :mod:`logging`; ``-v`` adds the estimators' and
solvers' messages, ``-vv`` their per-step detail, ``-q`` keeps warnings only.
"""

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from .. import __version__
from .. import io as l1io
from ..io._atomic import StagedOutputs, check_output_path, is_binary_name
from .._dictionary import CSLSDictionaryBuilder
from .._l1_procrustes import L1ProcrustesAligner
from .._procrustes import ProcrustesAligner
from .. import ADMMSolver, HuberContinuationSolver, StiefelFlowSolver, StopReason
from ..gensim import (
    align,
    dictionary_to_pairs,
    evaluate_bli,
    keyed_vectors_from_arrays,
    normalize_keyed_vectors,
    read_keyed_vectors,
    transform_keyed_vectors,
    write_keyed_vectors,
)

logger = logging.getLogger(__name__)

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser",
           "main", "output_paths"]

PROG = "l1align"
EXIT_OK = 0
#: Any failure that is not the user's input: a disk error while writing, an internal error.
EXIT_FAILURE = 1
#: Bad arguments or input: argparse's own status for usage errors.
EXIT_USAGE = 2
#: 128 + SIGINT, the shell convention for a run stopped by Ctrl-C.
EXIT_INTERRUPTED = 130

#: Errors caused by the arguments or the input files.
_INPUT_ERRORS = (ValueError, KeyError, FileNotFoundError, IsADirectoryError,
                 NotADirectoryError, PermissionError)

#: The normalisation steps that commute with orthogonal maps (see the module docstring).
_NORMALIZE_STEPS = ("unit", "center")
_DEFAULT_NORMALIZE = ["unit", "center", "unit"]
_EMBEDDING_SUFFIXES = (".vec", ".txt", ".bin")
#: Dropped dictionary pairs quoted in a JSON report.
_REPORT_EXAMPLES = 20
_SOLVERS = ("cayley", "vode", "huber", "admm")
_DEMO_BASENAME = "demo.fr-ru"


# --------------------------------------------------------------------------- outputs


def output_paths(out):
    """The three files an ``align`` or ``refine`` run writes for ``-o OUT``.

    Parameters
    ----------
    out : str or os.PathLike
        The mapped embeddings file, e.g. ``out.vec`` or ``out.vec.gz``.

    Returns
    -------
    paths : dict of str to pathlib.Path
        ``"vectors"`` (``out`` itself), ``"mapping"`` (``BASE.mapping.npz``) and
        ``"report"`` (``BASE.report.json``), where ``BASE`` is ``out`` without a
        ``.gz`` and a ``.vec``, ``.txt`` or ``.bin`` suffix.

    See Also
    --------
    main : Writes these files.

    Examples
    --------
    >>> from sklearn_l1align.cli import output_paths
    >>> {key: str(path) for key, path in output_paths("runs/fr-ru.vec.gz").items()}
    {'vectors': 'runs/fr-ru.vec.gz', 'mapping': 'runs/fr-ru.mapping.npz', 'report': 'runs/fr-ru.report.json'}
    """
    path = Path(out)
    base = path.name
    if base.lower().endswith(".gz"):
        base = base[: -len(".gz")]
    for suffix in _EMBEDDING_SUFFIXES:
        if base.lower().endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    return {
        "vectors": path,
        "mapping": path.with_name(f"{base}.mapping.npz"),
        "report": path.with_name(f"{base}.report.json"),
    }


def _jsonable(value):
    """Convert NumPy values, paths and enums for :func:`json.dump`."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _write_json(path, report):
    with l1io.atomic_write(path) as f:
        json.dump(_jsonable(report), f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")


# --------------------------------------------------------------------------- shared steps


@contextlib.contextmanager
def _timed(label):
    """Log ``label`` now, and its duration when the ``with`` block ends normally.

    Yields a dict whose ``"seconds"`` entry holds the duration once the block is over.
    """
    logger.info("%s ...", label)
    timer = {"seconds": 0.0}
    start = time.perf_counter()
    yield timer
    timer["seconds"] = time.perf_counter() - start
    logger.info("%s: done in %.1f s.", label, timer["seconds"])


def _steps(args):
    return [] if args.normalize == ["none"] else list(args.normalize)


def _read_spaces(args):
    """Read SRC and TGT and check their dimensions. Returns (raw source, source, target).

    ``source`` and ``target`` are normalised with ``--normalize``; the raw source is
    kept so that outputs can be written in its coordinates.
    """
    spaces = []
    for label, path in (("source", args.src), ("target", args.tgt)):
        with _timed(f"Reading the {label} embeddings {path}"):
            kv = read_keyed_vectors(path, max_vocab=args.max_vocab, lowercase=args.lowercase,
                                    binary=is_binary_name(path))
        logger.info("%s: %d words of dimension %d.", path, len(kv.index_to_key), kv.vector_size)
        spaces.append(kv)
    kv_src, kv_tgt = spaces
    if kv_src.vector_size != kv_tgt.vector_size:
        raise ValueError(
            "SRC and TGT must have the same dimension. Got "
            f"{kv_src.vector_size} ({args.src}) and {kv_tgt.vector_size} ({args.tgt}) instead."
        )
    steps = _steps(args)
    if not steps:
        return kv_src, kv_src, kv_tgt
    with _timed(f"Normalising both spaces ({', '.join(steps)})"):
        return kv_src, normalize_keyed_vectors(kv_src, steps), normalize_keyed_vectors(kv_tgt, steps)


def _make_solver(name, time_budget=None, verbose=0):
    if name == "cayley":
        return StiefelFlowSolver(integrator="cayley", time_budget=time_budget, verbose=verbose)
    if name == "vode":
        return StiefelFlowSolver(time_budget=time_budget, verbose=verbose)
    if name == "admm":
        return ADMMSolver(time_budget=time_budget, verbose=verbose)
    return HuberContinuationSolver(time_budget=time_budget, verbose=verbose)


def _reraise_interrupt(aligner):
    """The solvers catch Ctrl-C and return their best map; on the command line it means stop."""
    if any(r.stop_reason is StopReason.INTERRUPTED for r in aligner.solver_results_):
        raise KeyboardInterrupt


def _l1_summary(aligner, seconds):
    result = aligner.solver_result_
    return {
        "step": "l1",
        "seconds": seconds,
        "dictionary_sizes": aligner.dictionary_sizes_,
        "stop_reason": result.stop_reason.value,
        "message": result.message,
        "initial_loss": aligner.solver_results_[0].initial_loss,
        "loss": result.loss,
        "n_steps": aligner.n_iter_,
        "orthogonality_error": result.orthogonality_error,
        "rounds": [
            {"pairs": size, "stop_reason": r.stop_reason.value, "initial_loss": r.initial_loss,
             "loss": r.loss, "n_steps": r.n_steps, "seconds": r.wall_time}
            for size, r in zip(aligner.dictionary_sizes_, aligner.solver_results_)
        ],
    }


def _fit_l1(kv_src, kv_tgt, args):
    solver = _make_solver(args.solver, args.time_budget, min(args.verbose, 2))
    aligner = L1ProcrustesAligner(solver=solver, n_refinements=args.n_refinements,
                                  verbose=min(args.verbose, 1))
    with _timed(f"l1 refinement ({args.solver} solver, {1 + args.n_refinements} round(s))") as t:
        mapped = align(kv_src, kv_tgt, aligner)
    _reraise_interrupt(aligner)
    summary = _l1_summary(aligner, t["seconds"])
    summary["solver"] = {"name": args.solver, **solver.get_params()}
    logger.info("l1 solver stopped (%s): %s; l1 loss %.6g -> %.6g.", summary["stop_reason"],
                summary["message"], summary["initial_loss"], summary["loss"])
    return mapped, aligner, summary


def _bli_report(evaluation):
    return {
        "precision": {m: {f"P@{k}": p for k, p in ps.items()}
                      for m, ps in evaluation["precision"].items()},
        "n_queries": evaluation["n_queries"],
        "csls_k": evaluation["csls_k"],
        "coverage": evaluation["coverage"].to_dict(max_dropped=_REPORT_EXAMPLES),
        "convention": evaluation["convention"],
    }


def _evaluate_step(kv_mapped, kv_tgt, test_words, label, csls_k=10):
    with _timed(f"BLI evaluation after {label}"):
        return evaluate_bli(kv_mapped, kv_tgt, test_words, csls_k=csls_k)


def _method_name(method, csls_k):
    return "NN" if method == "nn" else f"CSLS-{csls_k}"


def _format_bli(evaluation, title):
    coverage = evaluation["coverage"]
    ks = sorted(next(iter(evaluation["precision"].values())))
    lines = [
        f"{title}: {evaluation['n_queries']} source words queried; coverage "
        f"{100 * coverage.coverage:.1f}% of {coverage.n_source_words} source words "
        f"({coverage.n_dropped} of {coverage.n_pairs} pairs dropped as out of vocabulary)",
        f"{'method':<9}" + "".join(f"{'P@' + str(k):>8}" for k in ks),
    ]
    for method, precision in evaluation["precision"].items():
        lines.append(f"{_method_name(method, evaluation['csls_k']):<9}"
                     + "".join(f"{100 * precision[k]:>8.1f}" for k in ks))
    lines.append("Precision in %. " + evaluation["convention"])
    return "\n".join(lines)


def _write_outputs(paths, kv_raw, rotation, metadata, report):
    """Write ``kv_raw @ rotation``, the mapping and the report; all appear together or none."""
    with StagedOutputs(paths.values()) as staged:
        with _timed(f"Writing {paths['vectors']}") as t:
            write_keyed_vectors(transform_keyed_vectors(kv_raw, rotation), staged[paths["vectors"]],
                                binary=is_binary_name(paths["vectors"]))
            l1io.save_mapping(staged[paths["mapping"]], rotation, metadata=_jsonable(metadata))
        report["seconds"]["write"] = t["seconds"]
        report["outputs"] = {key: str(path) for key, path in paths.items()}
        _write_json(staged[paths["report"]], report)
        staged.commit()


def _base_report(args, command):
    return {
        "command": command,
        "version": __version__,
        "argv": getattr(args, "argv", None),
        "inputs": {},
        "settings": {},
        "steps": [],
        "seconds": {},
    }


def _mapping_metadata(args, command, steps):
    return {
        "command": command,
        "version": __version__,
        "src": os.fspath(args.src),
        "tgt": os.fspath(args.tgt),
        "normalize": _steps(args),
        "steps": steps,
        "applies_to": "the src vectors as read, raw or normalised with 'normalize' (the two "
                      "commute): mapped = src @ rotation",
    }


# --------------------------------------------------------------------------- commands


def _cmd_align(args):
    start = time.perf_counter()
    paths = output_paths(args.output)
    for path in paths.values():
        check_output_path(path, inputs=(args.src, args.tgt, args.seed_dict, args.eval_dict))
    seed_words = l1io.read_dictionary(args.seed_dict, lowercase=args.lowercase)
    test_words = (None if args.eval_dict is None
                  else l1io.read_dictionary(args.eval_dict, lowercase=args.lowercase))
    kv_raw, kv_src, kv_tgt = _read_spaces(args)
    pairs, coverage = dictionary_to_pairs(seed_words, kv_src, kv_tgt)
    report = _base_report(args, "align")
    report["inputs"] = {"src": args.src, "tgt": args.tgt, "seed_dict": args.seed_dict,
                        "eval_dict": args.eval_dict, "n_src_words": len(kv_src.index_to_key),
                        "n_tgt_words": len(kv_tgt.index_to_key), "dim": kv_src.vector_size}
    report["settings"] = {"normalize": _steps(args), "max_vocab": args.max_vocab,
                          "lowercase": args.lowercase, "refine": args.refine,
                          "l2_refinements": args.l2_refinements, "solver": args.solver,
                          "n_refinements": args.n_refinements, "time_budget": args.time_budget}
    report["seed_dictionary"] = coverage.to_dict(max_dropped=_REPORT_EXAMPLES)
    report["seconds"]["read"] = time.perf_counter() - start

    builder = CSLSDictionaryBuilder() if args.l2_refinements else "paired"
    l2 = ProcrustesAligner(dictionary=builder, n_refinements=args.l2_refinements,
                           verbose=min(args.verbose, 1))
    with _timed(f"l2 Procrustes on {len(pairs)} seed pairs"
                + (f" and {args.l2_refinements} CSLS refinement round(s)"
                   if args.l2_refinements else "")) as t:
        mapped = align(kv_src, kv_tgt, l2, seed_dictionary=pairs)
    step = {"step": "l2", "seconds": t["seconds"], "dictionary_sizes": l2.dictionary_sizes_,
            "residuals": l2.residuals_}
    if test_words is not None:
        step["bli"] = _bli_report(_evaluate_step(mapped, kv_tgt, test_words, "l2"))
    report["steps"].append(step)
    rotation = l2.rotation_
    if args.refine == "l1":
        mapped, l1, step = _fit_l1(mapped, kv_tgt, args)
        if test_words is not None:
            step["bli"] = _bli_report(_evaluate_step(mapped, kv_tgt, test_words, "l1"))
        report["steps"].append(step)
        rotation = rotation @ l1.rotation_
    report["seconds"]["fit"] = time.perf_counter() - start - report["seconds"]["read"]
    report["seconds"]["total"] = time.perf_counter() - start
    metadata = _mapping_metadata(args, "align", [s["step"] for s in report["steps"]])
    _write_outputs(paths, kv_raw, rotation, metadata, report)
    _print_run_summary(report, paths)
    return EXIT_OK


def _cmd_refine(args):
    start = time.perf_counter()
    paths = output_paths(args.output)
    for path in paths.values():
        check_output_path(path, inputs=(args.src, args.tgt, args.eval_dict))
    test_words = (None if args.eval_dict is None
                  else l1io.read_dictionary(args.eval_dict, lowercase=args.lowercase))
    kv_raw, kv_src, kv_tgt = _read_spaces(args)
    report = _base_report(args, "refine")
    report["inputs"] = {"src": args.src, "tgt": args.tgt, "eval_dict": args.eval_dict,
                        "n_src_words": len(kv_src.index_to_key),
                        "n_tgt_words": len(kv_tgt.index_to_key), "dim": kv_src.vector_size}
    report["settings"] = {"normalize": _steps(args), "max_vocab": args.max_vocab,
                          "lowercase": args.lowercase, "solver": args.solver,
                          "n_refinements": args.n_refinements, "time_budget": args.time_budget}
    report["seconds"]["read"] = time.perf_counter() - start
    if test_words is not None:
        report["bli_before"] = _bli_report(_evaluate_step(kv_src, kv_tgt, test_words, "reading"))
    mapped, l1, step = _fit_l1(kv_src, kv_tgt, args)
    if test_words is not None:
        step["bli"] = _bli_report(_evaluate_step(mapped, kv_tgt, test_words, "l1"))
    report["steps"].append(step)
    report["seconds"]["fit"] = time.perf_counter() - start - report["seconds"]["read"]
    report["seconds"]["total"] = time.perf_counter() - start
    metadata = _mapping_metadata(args, "refine", ["l1"])
    _write_outputs(paths, kv_raw, l1.rotation_, metadata, report)
    _print_run_summary(report, paths)
    return EXIT_OK


def _print_run_summary(report, paths):
    for step in report["steps"]:
        line = f"{step['step']}: {step['seconds']:.1f} s, dictionary sizes {step['dictionary_sizes']}"
        if step["step"] == "l1":
            line += (f", stopped by {step['stop_reason']} ({step['message']}), "
                     f"l1 loss {step['initial_loss']:.6g} -> {step['loss']:.6g}")
        if "bli" in step:
            p = step["bli"]["precision"]
            line += "; P@1 " + ", ".join(
                f"{_method_name(m, step['bli']['csls_k'])} {100 * v['P@1']:.1f}%"
                for m, v in p.items())
        print(line)
    print(f"Wrote {paths['vectors']}, {paths['mapping']} and {paths['report']} "
          f"in {report['seconds']['total']:.1f} s.")


def _cmd_evaluate(args):
    start = time.perf_counter()
    if args.json is not None:
        check_output_path(args.json, inputs=(args.src, args.tgt, args.dict))
    test_words = l1io.read_dictionary(args.dict, lowercase=args.lowercase)
    _, kv_src, kv_tgt = _read_spaces(args)
    evaluation = _evaluate_step(kv_src, kv_tgt, test_words, "reading", csls_k=args.csls_k)
    print(_format_bli(evaluation, f"BLI {args.src} -> {args.tgt} on {args.dict}"))
    if args.json is not None:
        report = _base_report(args, "evaluate")
        report["inputs"] = {"src": args.src, "tgt": args.tgt, "dict": args.dict,
                            "n_src_words": len(kv_src.index_to_key),
                            "n_tgt_words": len(kv_tgt.index_to_key), "dim": kv_src.vector_size}
        report["settings"] = {"normalize": _steps(args), "max_vocab": args.max_vocab,
                              "lowercase": args.lowercase, "csls_k": args.csls_k}
        report.update(_bli_report(evaluation))
        del report["steps"]
        report["seconds"]["total"] = time.perf_counter() - start
        with StagedOutputs([args.json]) as staged:
            _write_json(staged[args.json], report)
            staged.commit()
    return EXIT_OK


def _cmd_demo(args):
    from ..datasets import load_demo

    start = time.perf_counter()
    paths = None
    if args.output is not None:
        folder = Path(args.output)
        if not folder.is_dir():
            raise FileNotFoundError(
                f"-o must name an existing folder. Got '{folder}', which is not one, instead."
            )
        paths = output_paths(folder / f"{_DEMO_BASENAME}.vec")
    with _timed("Loading the built-in French-Russian demo sample"):
        demo = load_demo()
    steps = _steps(args)
    fr_raw = keyed_vectors_from_arrays(demo.src_words, demo.src_vectors)
    fr = normalize_keyed_vectors(fr_raw, steps)
    ru = normalize_keyed_vectors(keyed_vectors_from_arrays(demo.tgt_words, demo.tgt_vectors), steps)
    rows = []

    def measure(name, aligner, kv_src, seed):
        with _timed(name) as t:
            mapped = align(kv_src, ru, aligner, seed_dictionary=seed)
        evaluation = evaluate_bli(mapped, ru, demo.test_dictionary, ks=(1,))
        rows.append({"step": name, "pairs": aligner.dictionary_sizes_[-1], "seconds": t["seconds"],
                     "precision": evaluation["precision"], "n_queries": evaluation["n_queries"]})
        return mapped

    verbose = min(args.verbose, 1)
    l2 = ProcrustesAligner(verbose=verbose)
    base = measure("l2 Procrustes on the seed pairs", l2, fr, demo.train_pairs)
    if args.l2_refinements:
        l2 = ProcrustesAligner(dictionary=CSLSDictionaryBuilder(),
                               n_refinements=args.l2_refinements, verbose=verbose)
        rounds = f"{args.l2_refinements} CSLS round{'s' if args.l2_refinements > 1 else ''}"
        base = measure(f"l2 refinement ({rounds})", l2, fr, demo.train_pairs)
    solver = _make_solver(args.solver, args.time_budget, min(args.verbose, 2))
    l1 = L1ProcrustesAligner(solver=solver, verbose=verbose)
    measure(f"l1 refinement ({args.solver})", l1, base, None)
    _reraise_interrupt(l1)
    total = time.perf_counter() - start

    n_test = rows[0]["n_queries"]
    print(f"l1align demo: French -> Russian, {len(fr.index_to_key)} + {len(ru.index_to_key)} "
          f"words ({fr.vector_size}-d), normalised {', '.join(steps) or 'not at all'}; "
          f"{len(demo.train_pairs)} seed pairs, {n_test} test source words "
          f"({len(demo.test_pairs)} pairs)")
    print()
    width = max(len(r["step"]) for r in rows) + 2
    print(f"{'step':<{width}}{'pairs':>6}{'NN P@1':>9}{'CSLS-10 P@1':>13}{'time':>9}")
    for r in rows:
        p = r["precision"]
        print(f"{r['step']:<{width}}{r['pairs']:>6}{100 * p['nn'][1]:>8.1f}%"
              f"{100 * p['csls'][1]:>12.1f}%{r['seconds']:>7.1f} s")
    print()
    before, after = rows[-2]["precision"], rows[-1]["precision"]
    print(f"l1 minus l2 (P@1, points): NN {100 * (after['nn'][1] - before['nn'][1]):+.1f}, "
          f"CSLS-10 {100 * (after['csls'][1] - before['csls'][1]):+.1f}")
    result = l1.solver_result_
    change = 100 * (result.loss - result.initial_loss) / result.initial_loss
    print(f"l1 solver: stopped by {result.stop_reason.value} ({result.message}); l1 loss "
          f"{result.initial_loss:.6g} -> {result.loss:.6g} ({change:+.2f}%) in {result.n_steps} "
          f"steps, {result.wall_time:.1f} s")
    if paths is not None:
        report = _base_report(args, "demo")
        report["settings"] = {"normalize": steps, "l2_refinements": args.l2_refinements,
                              "solver": {"name": args.solver, **solver.get_params()}}
        report["steps"] = rows
        report["l1"] = _l1_summary(l1, rows[-1]["seconds"])
        report["seconds"]["fit"] = total
        metadata = {"command": "demo", "version": __version__, "normalize": steps,
                    "applies_to": "the demo's French vectors, raw or normalised with 'normalize' "
                                  "(the two commute): mapped = src @ rotation"}
        _write_outputs(paths, fr_raw, l2.rotation_ @ l1.rotation_, metadata, report)
        print(f"Wrote {paths['vectors']}, {paths['mapping']} and {paths['report']}.")
    print(f"Total time: {time.perf_counter() - start:.1f} s")
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Got {text!r} instead")
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer. Got {text!r} instead")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number. Got {text!r} instead")
    return value


def _add_common(parser, *, spaces=True):
    if spaces:
        parser.add_argument("src", metavar="SRC", help="source embeddings (word2vec .vec/.txt/.bin, optionally .gz)")
        parser.add_argument("tgt", metavar="TGT", help="target embeddings, same formats")
        parser.add_argument("--max-vocab", type=_positive_int, metavar="N",
                            help="keep the first N words of each space (MUSE uses 200000)")
        parser.add_argument("--lowercase", action="store_true",
                            help="lowercase words (keeping each word's first, most frequent, "
                                 "casing) and dictionaries")
    parser.add_argument("--normalize", nargs="+", default=list(_DEFAULT_NORMALIZE),
                        choices=(*_NORMALIZE_STEPS, "none"), metavar="STEP",
                        help="normalisation chain applied to both spaces as they are read: unit, "
                             "center, or none (default: unit center unit)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more progress detail (-vv: per step)")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")


def _add_l1_options(parser):
    parser.add_argument("--solver", choices=_SOLVERS, default="cayley",
                        help="l1 solver: cayley (the paper's flow, fast Cayley integrator; "
                             "default), vode (the paper's VODE integration), huber (a true "
                             "l1 minimiser), admm (another l1 minimiser, by ADMM)")
    parser.add_argument("--n-refinements", type=_non_negative_int, default=0, metavar="K",
                        help="further l1 rounds, each re-inducing the dictionary (default 0)")
    parser.add_argument("--time-budget", type=_positive_float, metavar="S",
                        help="wall-clock seconds for the l1 solver; it then stops with the best map")


def build_parser():
    """Build the ``l1align`` argument parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        With the subcommands ``align``, ``refine``, ``evaluate`` and ``demo``.

    See Also
    --------
    main : Parses and runs a command.

    Examples
    --------
    >>> from sklearn_l1align.cli import build_parser
    >>> args = build_parser().parse_args(["align", "fr.vec", "ru.vec", "--seed-dict", "d.txt",
    ...                                   "-o", "out.vec", "--refine", "none"])
    >>> args.command, args.refine, args.solver, args.normalize
    ('align', 'none', 'cayley', ['unit', 'center', 'unit'])
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="l1-norm refinement of cross-lingual word embeddings (Peng, Lin & "
                    "Stevenson, NAACL 2021).",
        epilog="Exit status: 0 success, 2 usage or input error, 1 other failure, "
               "130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("align", help="supervised l2 Procrustes on a seed dictionary, then l1",
                            description="Map SRC onto TGT: l2 orthogonal Procrustes on the seed "
                                        "dictionary, optionally followed by l1 refinement.")
    _add_common(p)
    p.add_argument("--seed-dict", required=True, metavar="D",
                   help="seed dictionary, MUSE format ('source target' per line)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="mapped source embeddings, SRC @ M in SRC's own scale; "
                        "BASE.mapping.npz (M) and BASE.report.json are written beside it")
    p.add_argument("--refine", choices=("none", "l1"), default="l1",
                   help="refinement after l2 (default: l1)")
    p.add_argument("--l2-refinements", type=_non_negative_int, default=0, metavar="K",
                   help="MUSE-style l2 self-learning rounds with a CSLS dictionary before l1 "
                        "(default 0)")
    p.add_argument("--eval-dict", metavar="TEST",
                   help="also measure BLI on this test dictionary after each step (in the report)")
    _add_l1_options(p)
    p.set_defaults(func=_cmd_align)

    p = commands.add_parser("refine", help="l1 refinement of spaces already aligned",
                            description="Algorithm 1 of Peng, Lin & Stevenson (2021): induce a "
                                        "mutual CSLS-10 dictionary and solve l1 Procrustes.")
    _add_common(p)
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="mapped source embeddings, SRC @ M in SRC's own scale; "
                        "BASE.mapping.npz (M) and BASE.report.json are written beside it")
    p.add_argument("--eval-dict", metavar="TEST",
                   help="also measure BLI on this test dictionary before and after (in the report)")
    _add_l1_options(p)
    p.set_defaults(func=_cmd_refine)

    p = commands.add_parser("evaluate", help="BLI precision@1/5/10 (NN and CSLS) and coverage",
                            description="Bilingual lexicon induction scores of aligned spaces, "
                                        "with MUSE's convention for out-of-vocabulary pairs.")
    _add_common(p)
    p.add_argument("--dict", required=True, metavar="TEST",
                   help="test dictionary, MUSE format")
    p.add_argument("--json", metavar="OUT.json", help="also write the scores as JSON")
    p.add_argument("--csls-k", type=_positive_int, default=10, metavar="K",
                   help="CSLS neighbourhood size (default 10)")
    p.set_defaults(func=_cmd_evaluate)

    p = commands.add_parser("demo", help="the built-in French-Russian sample, end to end",
                            description="Normalise, l2 Procrustes on the seed pairs, l2 "
                                        "refinement to an l2 fixed point, l1 refinement, and "
                                        "BLI before and after.")
    _add_common(p, spaces=False)
    p.add_argument("-o", "--output", metavar="DIR",
                   help=f"existing folder for {_DEMO_BASENAME}.vec, its mapping and its report")
    p.add_argument("--l2-refinements", type=_non_negative_int, default=5, metavar="K",
                   help="l2 CSLS self-learning rounds before l1 (default 5)")
    p.add_argument("--solver", choices=_SOLVERS, default="cayley",
                   help="l1 solver (default: cayley)")
    p.add_argument("--time-budget", type=_positive_float, metavar="S",
                   help="wall-clock seconds for the l1 solver")
    p.set_defaults(func=_cmd_demo)
    return parser


# --------------------------------------------------------------------------- main


def _one_line(exc):
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        text = exc.args[0]
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


class _SigintWatch:
    """Note whether Ctrl-C arrived, even if a library turns the KeyboardInterrupt into another error.

    (SciPy's VODE, for one, reports an exception raised in its right-hand side as a
    ValueError.) Python's default handler is kept otherwise; an ignored SIGINT stays ignored.
    """

    def __enter__(self):
        self.seen = False
        self.previous = None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt

    def __exit__(self, exc_type, exc, tb):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


@contextlib.contextmanager
def _cli_logging(args):
    """Send the package's log records to the current stderr for the duration of a command."""
    if args.quiet:
        level = logging.WARNING
    elif args.verbose >= 2:
        level = logging.DEBUG
    else:
        level = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    package = logging.getLogger(__name__.rpartition(".")[0])
    previous = package.level
    package.addHandler(handler)
    package.setLevel(level)

    def show(message, category, filename, lineno, file=None, line=None):
        logger.warning("%s: %s", category.__name__, message)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show
            yield
    finally:
        package.removeHandler(handler)
        package.setLevel(previous)


def main(argv=None):
    """Run the ``l1align`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 2 for a usage or input error, 1 for any other failure, 130 when
        interrupted. Errors print one line, ``l1align: error: ...``, to stderr.

    See Also
    --------
    build_parser : The arguments.
    sklearn_l1align.gensim : The functions the commands are built on.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.cli import main
    >>> from sklearn_l1align.gensim import keyed_vectors_from_arrays, write_keyed_vectors
    >>> folder = tempfile.mkdtemp()
    >>> src, tgt, test = (os.path.join(folder, n) for n in ("fr.vec", "ru.vec", "test.txt"))
    >>> write_keyed_vectors(keyed_vectors_from_arrays(["chat", "chien"], np.eye(2)), src)
    >>> write_keyed_vectors(keyed_vectors_from_arrays(["кот", "собака"], np.eye(2)), tgt)
    >>> with open(test, "w", encoding="utf-8") as f:
    ...     _ = f.write("chat кот\\nchien собака\\nchien пёс\\n")
    >>> main(["evaluate", src, tgt, "--dict", test, "--normalize", "none", "-q"])
    ... # doctest: +ELLIPSIS
    BLI ...: 2 source words queried; coverage 100.0% of 2 source words (1 of 3 pairs dropped as out of vocabulary)
    method        P@1     P@5    P@10
    NN          100.0   100.0   100.0
    CSLS-10     100.0   100.0   100.0
    Precision in %. MUSE word-translation convention: ...
    0
    >>> main(["evaluate", src, os.path.join(folder, "missing.vec"), "--dict", test, "-q"])
    2
    """
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if getattr(args, "normalize", None) and "none" in args.normalize and args.normalize != ["none"]:
        print(f"{PROG}: error: --normalize none cannot be combined with other steps. "
              f"Got {' '.join(args.normalize)} instead.", file=sys.stderr)
        return EXIT_USAGE
    args.argv = argv
    with _cli_logging(args), _SigintWatch() as sigint:
        try:
            return args.func(args)
        except KeyboardInterrupt:
            return _interrupted()
        except Exception as exc:
            if sigint.seen:  # Ctrl-C that a library turned into another exception
                return _interrupted()
            return _report_error(exc)


def _interrupted():
    print(f"{PROG}: interrupted; no partial output was written.", file=sys.stderr)
    return EXIT_INTERRUPTED


def _report_error(exc):
    """Print the one-line message for ``exc`` and return the exit status."""
    if isinstance(exc, _INPUT_ERRORS):
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, OSError):
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    # An internal error: one line, and the traceback with -vv.
    logger.debug("Traceback of the internal error:", exc_info=exc)
    print(f"{PROG}: error: internal error ({type(exc).__name__}): {_one_line(exc)}",
          file=sys.stderr)
    return EXIT_FAILURE
