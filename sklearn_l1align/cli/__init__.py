"""The ``l1align`` command: align, refine, evaluate and translate cross-lingual word embeddings.

**Subcommands.**

``l1align align SRC TGT --seed-dict D -o OUT`` (or ``--identical`` instead of ``--seed-dict``)
    Supervised ℓ2 Procrustes on the seed, then ℓ1 refinement, **validated**: a share of
    the seed's source words (``--validation-fraction``, 0.2) is held out (or, with
    ``--validation-folds K``, each of K folds in turn; the default ``auto`` runs 5 folds
    when one split would hold out fewer than 500 words), and each
    refinement step (the chain the flags describe, and the paper's schedule:
    ``--candidates``) is kept only when its CSLS-10 P@1 on the held-out words beats ℓ2
    alone by more than noise (:func:`sklearn_l1align.model_selection.select_refinement`);
    the kept chain is then refitted on all the seed pairs. The summary and the report give
    each step's held-out score and whether it was kept or rejected.
    ``--validation-max-rank N`` scores within the N most frequent words of each space, for
    large vocabularies, where each scored step's CSLS pass dominates. ``--no-validation``
    applies the chain blind, every step kept. ``--identical`` (also ``--seed identical``)
    seeds from the strings present in both vocabularies (VecMap's ``--identical``) and
    reports their count.
``l1align refine SRC TGT -o OUT``
    ℓ1 refinement (Peng, Lin & Stevenson 2021, Algorithm 1) of spaces already aligned.
``l1align evaluate SRC TGT --dict TEST``
    BLI precision@k (``--k``, default 1 5 10) by NN and/or CSLS (``--retrieval``), with the
    dictionary's coverage; ``--json`` also writes the scores.
``l1align translate SRC TGT WORD ...``
    Each word's top ``-k`` target words with their scores (CSLS or cosine), as text or
    JSON (``--json`` on stdout, ``--json FILE`` to a file); ``--words-file FILE`` (``-``
    for stdin) reads more words, one per line.
``l1align demo``
    The built-in French-Russian sample, end to end.

The ℓ1 step's induced dictionary takes CSLSDictionaryBuilder's ``k``, ``direction``
and ``max_rank`` from ``--dict-k``, ``--dict-direction`` and ``--dict-max-rank``.
``--time-budget S`` is the wall-clock budget of one ℓ1 step: its rounds
(``1 + --n-refinements``) share it. It is not the solver's ``max_time``, which is the
horizon of the flow in flow time (the ODE's ``t``), not seconds; the stop lines say which
clock each number is on.

**Outputs.**
``-o OUT`` names the mapped source embeddings (word2vec text; binary when the name
ends in ``.bin`` or ``.bin.gz``; gzip when it ends in ``.gz``). Beside it go
``BASE.mapping.npz``, the orthogonal map ``M`` (pickle-free, see
:func:`sklearn_l1align.io.save_mapping`), and ``BASE.report.json``, the settings and
measurements, where ``BASE`` is ``OUT`` without ``.gz`` and ``.vec``/``.txt``/``.bin``.
``OUT`` holds ``SRC @ M``: the source vectors as read, rotated into the target space,
without the normalisation baked in (see below).

Every output path, ``--json`` included, is checked before any reading or fitting
(:func:`sklearn_l1align.io.check_output_path`). All outputs are first written into a
hidden staging folder beside them and moved into place together at the end, so an error
or Ctrl-C leaves earlier outputs as they were and no partial file. A run killed outright
(SIGKILL) while moving them can leave its hidden ``.l1align-<host>-<pid>-*.partial``
folder; the next run that writes to the same folder removes it, with a warning. Log
lines name the final paths, never the staging ones.

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
failure (e.g. a disk error while writing); 130 interrupted (Ctrl-C); 143 terminated
(SIGTERM, as ``timeout``, ``docker stop`` and Slurm send). Errors print a
one-line ``l1align: error: ...`` message to stderr, without a traceback (``-vv``
adds the traceback of unexpected errors).

**Progress.** The result goes to stdout; the steps go to stderr through :mod:`logging`.
On a terminal, long steps (reading, dictionary, solver, evaluation) also draw a progress
line (``sklearn_l1align._progress.show_progress`` is on for the command); nothing is
drawn when stderr is not a terminal. A validated ``align`` logs each scored step (and
fold) with its held-out P@1 as it goes, so a log file shows how far it is. ``-v`` adds the readers', estimators' and solvers'
messages, ``-vv`` their per-step detail, ``-q`` keeps warnings only and turns progress off.

**Layout.** ``_parser`` builds the arguments and imports only the standard library,
so ``l1align --help`` answers without loading NumPy, SciPy, scikit-learn or gensim;
``_commands`` holds one function per subcommand, on arrays (files are read and
written with :mod:`sklearn_l1align.io`, scored with :mod:`sklearn_l1align.metrics`; the
gensim adapter is not used); ``_report`` builds the JSON report and the printed
summaries. This module runs them: logging, progress, exit status.
"""

import contextlib
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

from .._progress import show_progress
from ._parser import PROG, build_parser

logger = logging.getLogger(__name__)

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_TERMINATED", "EXIT_USAGE",
           "build_parser", "main", "output_paths"]

EXIT_OK = 0
#: Any failure that is not the user's input: a disk error while writing, an internal error.
EXIT_FAILURE = 1
#: Bad arguments or input: argparse's own status for usage errors.
EXIT_USAGE = 2
#: 128 + SIGINT, the shell convention for a run stopped by Ctrl-C.
EXIT_INTERRUPTED = 130
#: SIGTERM (what ``timeout``, ``docker stop`` and Slurm send), as 128 + 15.
EXIT_TERMINATED = 143

#: Errors caused by the arguments or the input files.
_INPUT_ERRORS = (ValueError, KeyError, FileNotFoundError, IsADirectoryError,
                 NotADirectoryError, PermissionError)

_EMBEDDING_SUFFIXES = (".vec", ".txt", ".bin")


# --------------------------------------------------------------------------- outputs


def output_paths(out: str | os.PathLike[str]) -> dict[str, Path]:
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


# --------------------------------------------------------------------------- main


def _one_line(exc):
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        text = exc.args[0]
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


class _SigintWatch:
    """Turn Ctrl-C (SIGINT) and SIGTERM into one clean stop of the command.

    The first of them raises ``KeyboardInterrupt`` (the solvers return their best map on
    it, and the command then stops without writing; the output commit holds both back
    while it moves files, see :class:`sklearn_l1align.io._atomic.StagedOutputs`). Later
    ones are only noted, so that a second Ctrl-C during the clean-up cannot print a
    traceback. ``seen`` and ``signum`` tell what arrived even if a library turned the
    ``KeyboardInterrupt`` into another error (SciPy's VODE reports an exception raised in
    its right-hand side as a ValueError). A signal whose handler is not Python's default
    stays as it was (an ignored SIGINT stays ignored). With ``final`` (the ``l1align``
    process itself), a stopped run keeps ignoring both signals until the process exits.
    """

    def __init__(self, final=False):
        self.final = final

    def __enter__(self):
        self.seen = False
        self.signum = None
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum, default in ((signal.SIGINT, signal.default_int_handler),
                                    (signal.SIGTERM, signal.SIG_DFL)):
                if signal.getsignal(signum) == default:
                    self.previous[signum] = signal.signal(signum, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.seen:
            return  # the stop asked for by the first signal is under way
        self.seen = True
        self.signum = signum
        # What the run warns from now on (a solver "returning the best map so far")
        # describes a result that will not be written; _cli_logging restores the filters.
        warnings.simplefilter("ignore")
        raise KeyboardInterrupt

    def __exit__(self, exc_type, exc, tb):
        for signum, previous in self.previous.items():
            signal.signal(signum, signal.SIG_IGN if self.final and self.seen else previous)
        return False


class _HideStaging(logging.Filter):
    """Drop routine records that name a hidden staging path (``....partial``).

    The writers log the file they write, which on the command line is a file inside a
    staging folder (see the module docstring); the command logs the final paths itself.
    Warnings and errors always pass.
    """

    def filter(self, record):
        return record.levelno >= logging.WARNING or ".partial" not in record.getMessage()


@contextlib.contextmanager
def _cli_logging(args):
    """Send the package's log records to the current stderr for the duration of a command.

    The command's own steps are logged at INFO, and so are validation's scored steps
    (:mod:`sklearn_l1align.model_selection`: one line per step and fold, which is the
    progress of a validated ``align`` in a log file); the library's other messages
    (readers, estimators, solvers) only with ``-v``, their DEBUG detail with ``-vv``;
    ``-q`` keeps warnings only.
    """
    if args.quiet:
        levels = (logging.WARNING, logging.WARNING, logging.WARNING)
    elif args.verbose >= 2:
        levels = (logging.DEBUG, logging.DEBUG, logging.DEBUG)
    elif args.verbose == 1:
        levels = (logging.INFO, logging.INFO, logging.INFO)
    else:
        levels = (logging.WARNING, logging.INFO, logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    handler.addFilter(_HideStaging())
    package = logging.getLogger(__name__.rpartition(".")[0])
    loggers = (package, logger, logging.getLogger(package.name + ".model_selection"))
    previous = [log.level for log in loggers]
    package.addHandler(handler)
    for log, level in zip(loggers, levels):
        log.setLevel(level)

    def show(message, category, filename, lineno, file=None, line=None):
        logger.warning("%s: %s", category.__name__, message)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show
            yield
    finally:
        package.removeHandler(handler)
        for log, level in zip(loggers, previous):
            log.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    """Run the ``l1align`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 2 for a usage or input error, 1 for any other failure, 130 when
        interrupted (Ctrl-C), 143 when terminated (SIGTERM); earlier outputs are then
        left as they were. Errors print one line, ``l1align: error: ...``, to stderr.

    See Also
    --------
    build_parser : The arguments.
    sklearn_l1align.io : The readers and writers the commands are built on.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.cli import main
    >>> from sklearn_l1align.io import write_word2vec
    >>> folder = tempfile.mkdtemp()
    >>> src, tgt, test = (os.path.join(folder, n) for n in ("fr.vec", "ru.vec", "test.txt"))
    >>> write_word2vec(src, ["chat", "chien"], np.eye(2))
    >>> write_word2vec(tgt, ["кот", "собака"], np.eye(2))
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
    final = argv is None  # the l1align process itself, which ends when main returns
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
    with _cli_logging(args), show_progress(not args.quiet), _SigintWatch(final) as sigint:
        try:
            from ._commands import COMMANDS  # NumPy and the estimators load only now

            return COMMANDS[args.command](args)
        except KeyboardInterrupt:
            return _interrupted(sigint.signum)
        except Exception as exc:
            if sigint.seen:  # Ctrl-C that a library turned into another exception
                return _interrupted(sigint.signum)
            return _report_error(exc)


def _interrupted(signum=None):
    """Print the one line for a stop by SIGINT (exit 130) or SIGTERM (exit 143)."""
    if signum == signal.SIGTERM:
        print(f"{PROG}: terminated (SIGTERM); no partial output was written.", file=sys.stderr)
        return EXIT_TERMINATED
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
