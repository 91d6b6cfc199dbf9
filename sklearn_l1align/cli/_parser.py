"""The ``l1align`` argument parser.

This module imports nothing beyond the standard library and the package's version, so
that ``l1align --help`` answers at once: NumPy, SciPy, scikit-learn and gensim are
imported only once a command runs (see :mod:`sklearn_l1align.cli._commands`).
"""

import argparse

from .. import __version__

__all__ = ["PROG", "build_parser"]

PROG = "l1align"

#: The normalisation steps that commute with orthogonal maps (see the cli docstring).
NORMALIZE_STEPS = ("unit", "center")
DEFAULT_NORMALIZE = ("unit", "center", "unit")
SOLVERS = ("cayley", "vode", "huber", "admm")
RETRIEVALS = ("nn", "csls")
#: CSLSDictionaryBuilder's ``direction`` values.
DIRECTIONS = ("mutual", "s2t", "t2s", "union")
#: CSLSDictionaryBuilder's defaults, the paper's (CSLS-10, mutual pairs, 10,000 most frequent).
DEFAULT_DICT_K = 10
DEFAULT_DICT_DIRECTION = "mutual"
DEFAULT_DICT_MAX_RANK = 10000
DEFAULT_KS = (1, 5, 10)
#: The refinement chains ``align`` validates (see ``--candidates``).
CANDIDATES = ("requested", "paper", "both")
DEFAULT_CSLS_K = 10
DEFAULT_TOPN = 5
DEMO_BASENAME = "demo.fr-ru"

_OUTPUT_HELP = ("mapped source embeddings, SRC @ M in SRC's own scale; BASE.mapping.npz (M) and "
                "BASE.report.json are written beside it")
_TIME_BUDGET_HELP = (
    "wall-clock seconds for one l1 step: all its rounds (1 + --n-refinements) share this "
    "budget, each round getting what the earlier ones left; the solver then stops with its "
    "best map (stop reason time_budget). With validation, each candidate chain's l1 steps "
    "have their own budget. Reading, the l2 step, validation scoring and evaluation are not "
    "counted. Not the solver's max_time, which is the flow's integration horizon (flow "
    "time t, not seconds)"
)


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


def _folds(text):
    """``auto`` or a positive integer (``--validation-folds``)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be 'auto' or a positive integer. Got {text!r} instead") from None


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number. Got {text!r} instead")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a number strictly between 0 and 1. Got {text!r} instead")
    return value


def _max_rank(text):
    """A positive integer, or ``all`` (no cut: every row takes part)."""
    if text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer or 'all'. Got {text!r} instead")
    return value


class _SeedAction(argparse.Action):
    """``--seed identical``: the spelling of the issue tracker, stored as ``identical=True``."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, True)


def _add_spaces(parser, src_help, tgt_help):
    parser.add_argument("src", metavar="SRC", help=src_help)
    parser.add_argument("tgt", metavar="TGT", help=tgt_help)
    parser.add_argument("--max-vocab", type=_positive_int, metavar="N",
                        help="keep the first N words of each space (MUSE uses 200000)")
    parser.add_argument("--lowercase", action="store_true",
                        help="lowercase words (keeping each word's first, most frequent, "
                             "casing) and dictionaries")


def _add_common(parser, *, spaces=True):
    if spaces:
        _add_spaces(parser, "source embeddings (word2vec .vec/.txt/.bin, optionally .gz)",
                    "target embeddings, same formats")
    parser.add_argument("--normalize", nargs="+", default=list(DEFAULT_NORMALIZE),
                        choices=(*NORMALIZE_STEPS, "none"), metavar="STEP",
                        help="normalisation chain applied to both spaces as they are read: unit, "
                             "center, or none (default: unit center unit)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more detail: -v adds the estimators' and solvers' messages, "
                             "-vv their per-step detail")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="warnings and errors only, and no progress line")


def _add_l1_options(parser):
    group = parser.add_argument_group("l1 step")
    group.add_argument("--solver", choices=SOLVERS, default="cayley",
                       help="l1 solver: cayley (the paper's flow, fast Cayley integrator; "
                            "default), vode (the paper's VODE integration), huber (a true "
                            "l1 minimiser), admm (another l1 minimiser, by ADMM)")
    group.add_argument("--n-refinements", type=_non_negative_int, default=0, metavar="K",
                       help="further l1 rounds, each re-inducing the dictionary (default 0)")
    group.add_argument("--time-budget", type=_positive_float, metavar="S", help=_TIME_BUDGET_HELP)
    group = parser.add_argument_group(
        "l1 dictionary", "the dictionary each l1 round induces (CSLSDictionaryBuilder)")
    group.add_argument("--dict-k", type=_positive_int, default=DEFAULT_DICT_K, metavar="K",
                       help=f"CSLS neighbourhood size (default {DEFAULT_DICT_K}, the paper's)")
    group.add_argument("--dict-direction", choices=DIRECTIONS, default=DEFAULT_DICT_DIRECTION,
                       help="mutual: pairs found both ways (S2T and T2S, the paper's; default); "
                            "s2t or t2s: one way; union: either way")
    group.add_argument("--dict-max-rank", type=_max_rank, default=DEFAULT_DICT_MAX_RANK,
                       metavar="N",
                       help="only the N most frequent words of each space take part "
                            f"(default {DEFAULT_DICT_MAX_RANK}; 'all' for the whole vocabulary)")


def build_parser() -> argparse.ArgumentParser:
    """Build the ``l1align`` argument parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        With the subcommands ``align``, ``refine``, ``evaluate``, ``translate`` and
        ``demo``. Each parsed namespace has ``command`` set to the subcommand's name.

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
               "130 interrupted (Ctrl-C), 143 terminated (SIGTERM).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser(
        "align", help="supervised l2 Procrustes on a seed dictionary, then l1",
        description="Map SRC onto TGT: l2 orthogonal Procrustes on the seed dictionary, "
                    "optionally followed by l1 refinement. With a seed dictionary, each "
                    "refinement step is validated on held-out seed pairs and kept only when "
                    "it helps (--no-validation applies the chain blind).")
    _add_common(p)
    seed = p.add_mutually_exclusive_group(required=True)
    seed.add_argument("--seed-dict", metavar="D",
                      help="seed dictionary, MUSE format ('source target' per line)")
    seed.add_argument("--identical", "--seed-identical", dest="identical", action="store_true",
                      help="seed from the strings present in both vocabularies (VecMap's "
                           "--identical); the report gives their count")
    seed.add_argument("--seed", choices=("identical",), action=_SeedAction, dest="identical",
                      help="--seed identical is the same as --identical")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help=_OUTPUT_HELP)
    p.add_argument("--refine", choices=("none", "l1"), default="l1",
                   help="refinement after l2 (default: l1)")
    p.add_argument("--l2-refinements", type=_non_negative_int, default=0, metavar="K",
                   help="MUSE-style l2 self-learning rounds with a CSLS dictionary before l1 "
                        "(default 0)")
    p.add_argument("--eval-dict", metavar="TEST",
                   help="also measure BLI on this test dictionary after each step (in the report)")
    validation = p.add_argument_group(
        "validation", "held-out seed pairs decide which refinement steps are kept")
    validation.add_argument("--no-validation", dest="validation", action="store_false",
                            help="apply the refinement chain blind, as before (no held-out "
                                 "pairs, every step kept)")
    validation.add_argument("--candidates", choices=CANDIDATES, default="both",
                            help="the refinement chains compared with l2 alone: 'requested' "
                                 "(the chain the flags describe: --l2-refinements rounds, then "
                                 "the l1 step), 'paper' (l2 self-learning to its fixed point, "
                                 "then two l1 rounds, the paper's schedule), or both (default)")
    validation.add_argument("--validation-fraction", type=_fraction, default=0.2, metavar="F",
                            help="share of the seed's source words held out (default 0.2)")
    validation.add_argument("--validation-folds", type=_folds, default="auto", metavar="K",
                            help="K >= 2 cross-validates instead of one split: the seed's source "
                                 "words in K folds, each scored by fits on the others, so every "
                                 "seed word is held out once (K times the work; "
                                 "--validation-fraction is then unused). 1 is one split. 'auto' "
                                 "(default): 5 folds when one split would hold out fewer than "
                                 "500 source words (a seed under 2,500 words at the default "
                                 "fraction), else one split; under --validation-max-rank, "
                                 "of the source words it leaves scorable")
    validation.add_argument("--validation-max-rank", type=_max_rank, default=None, metavar="N",
                            help="score the held-out seed words within the N most frequent "
                                 "words of each space: pairs with a word beyond them are not "
                                 "scored, the others retrieve among those N targets (default "
                                 "'all': the whole vocabularies, as --eval-dict does). Each "
                                 "scored step costs a CSLS pass over source x target words, "
                                 "most of validation's time on large vocabularies; N cuts it "
                                 "to N x N")
    validation.add_argument("--random-state", type=_non_negative_int, default=0, metavar="N",
                            help="seed of the held-out split or folds (default 0)")
    _add_l1_options(p)

    p = commands.add_parser("refine", help="l1 refinement of spaces already aligned",
                            description="Algorithm 1 of Peng, Lin & Stevenson (2021): induce a "
                                        "mutual CSLS-10 dictionary and solve l1 Procrustes.")
    _add_common(p)
    p.add_argument("-o", "--output", required=True, metavar="OUT", help=_OUTPUT_HELP)
    p.add_argument("--eval-dict", metavar="TEST",
                   help="also measure BLI on this test dictionary before and after (in the report)")
    _add_l1_options(p)

    p = commands.add_parser("evaluate", help="BLI precision@k (NN and/or CSLS) and coverage",
                            description="Bilingual lexicon induction scores of aligned spaces, "
                                        "with MUSE's convention for out-of-vocabulary pairs.")
    _add_common(p)
    p.add_argument("--dict", required=True, metavar="TEST",
                   help="test dictionary, MUSE format")
    p.add_argument("--json", metavar="OUT.json", help="also write the scores as JSON")
    p.add_argument("--retrieval", nargs="+", choices=RETRIEVALS, default=list(RETRIEVALS),
                   help="retrieval: nn (cosine), csls, or both (default: nn csls)")
    p.add_argument("--k", nargs="+", type=_positive_int, default=list(DEFAULT_KS), metavar="K",
                   dest="ks", help="precision cut-offs (default: 1 5 10)")
    p.add_argument("--csls-k", type=_positive_int, default=DEFAULT_CSLS_K, metavar="K",
                   help=f"CSLS neighbourhood size (default {DEFAULT_CSLS_K})")

    p = commands.add_parser(
        "translate", help="top-k translations of source words, with scores",
        description="Translate words of SRC (already mapped into TGT's space, e.g. by "
                    "'l1align align') into their nearest TGT words, by CSLS or cosine.")
    _add_spaces(p, "mapped source embeddings (e.g. the -o file of 'l1align align')",
                "target embeddings")
    p.add_argument("words", nargs="*", metavar="WORD", help="source words to translate")
    p.add_argument("--words-file", metavar="FILE",
                   help="also translate the words of FILE, one per line ('-' reads stdin)")
    p.add_argument("-k", "--topn", type=_positive_int, default=DEFAULT_TOPN, metavar="K",
                   help=f"translations per word (default {DEFAULT_TOPN})")
    p.add_argument("--retrieval", choices=RETRIEVALS, default="csls",
                   help="csls (default) or nn (cosine)")
    p.add_argument("--csls-k", type=_positive_int, default=DEFAULT_CSLS_K, metavar="K",
                   help=f"CSLS neighbourhood size (default {DEFAULT_CSLS_K})")
    p.add_argument("--json", nargs="?", const="-", metavar="OUT.json",
                   help="JSON instead of text: on stdout, or written to OUT.json")
    _add_common(p, spaces=False)

    p = commands.add_parser("demo", help="the built-in French-Russian sample, end to end",
                            description="Normalise, l2 Procrustes on the seed pairs, l2 "
                                        "refinement to an l2 fixed point, l1 refinement, and "
                                        "BLI before and after.")
    _add_common(p, spaces=False)
    p.add_argument("-o", "--output", metavar="DIR",
                   help=f"existing folder for {DEMO_BASENAME}.vec, its mapping and its report")
    p.add_argument("--l2-refinements", type=_non_negative_int, default=5, metavar="K",
                   help="l2 CSLS self-learning rounds before l1 (default 5)")
    p.add_argument("--solver", choices=SOLVERS, default="cayley",
                   help="l1 solver (default: cayley)")
    p.add_argument("--time-budget", type=_positive_float, metavar="S", help=_TIME_BUDGET_HELP)
    return parser
