"""The ``l1align`` argument parser (``sklearn_l1align.cli._parser``): flags, defaults, usage errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sklearn_l1align import CSLSDictionaryBuilder
from sklearn_l1align.cli import EXIT_USAGE, build_parser, main

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "scipy", "sklearn", "gensim")


def _parse(*argv):
    return build_parser().parse_args(list(argv))


def test_help_imports_no_numerical_stack():
    """``l1align --help`` answers without importing NumPy, SciPy, scikit-learn or gensim."""
    code = (
        "import sys\n"
        "from sklearn_l1align.cli import main\n"
        "for argv in (['--help'], ['align', '--help'], ['translate', '--help'], ['--version']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print('heavy:', *(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "heavy:"


def test_module_help_via_importtime():
    """``python -X importtime -m sklearn_l1align --help``: no heavy module in the import log."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "sklearn_l1align", "--help"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "usage: l1align" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "sklearn_l1align" in imported  # the log is the one we think it is
    assert not imported & set(HEAVY)


def test_align_defaults():
    args = _parse("align", "fr.vec", "ru.vec", "--seed-dict", "d.txt", "-o", "out.vec")
    assert args.command == "align" and args.seed_dict == "d.txt" and not args.identical
    assert args.refine == "l1" and args.solver == "cayley" and args.n_refinements == 0
    assert args.validation is True and args.validation_fraction == 0.2
    assert args.validation_folds == "auto"
    assert args.time_budget is None and args.normalize == ["unit", "center", "unit"]


def test_dictionary_flag_defaults_are_the_builders():
    """--dict-k, --dict-direction and --dict-max-rank default to CSLSDictionaryBuilder's."""
    builder = CSLSDictionaryBuilder()
    for command in (["align", "a", "b", "--identical", "-o", "o.vec"], ["refine", "a", "b", "-o", "o"]):
        args = _parse(*command)
        assert (args.dict_k, args.dict_direction, args.dict_max_rank) == (
            builder.k, builder.direction, builder.max_rank)


def test_dictionary_flags():
    args = _parse("refine", "a", "b", "-o", "o.vec", "--dict-k", "5", "--dict-direction", "union",
                  "--dict-max-rank", "all")
    assert (args.dict_k, args.dict_direction, args.dict_max_rank) == (5, "union", None)
    args = _parse("align", "a", "b", "--identical", "-o", "o.vec", "--dict-max-rank", "2000",
                  "--dict-direction", "s2t")
    assert args.dict_max_rank == 2000 and args.dict_direction == "s2t" and args.identical


def test_identical_and_seed_dict_are_exclusive_and_one_is_required(capsys):
    assert _parse("align", "a", "b", "--seed-identical", "-o", "o").identical
    assert _parse("align", "a", "b", "--seed", "identical", "-o", "o").identical is True
    assert main(["align", "a", "b", "--seed", "other", "-o", "o"]) == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err
    assert main(["align", "a", "b", "--identical", "--seed-dict", "d", "-o", "o"]) == EXIT_USAGE
    assert "not allowed with" in capsys.readouterr().err
    assert main(["align", "a", "b", "-o", "o"]) == EXIT_USAGE
    assert "--seed-dict" in capsys.readouterr().err


def test_evaluate_retrieval_and_k():
    args = _parse("evaluate", "a", "b", "--dict", "t")
    assert args.retrieval == ["nn", "csls"] and args.ks == [1, 5, 10] and args.csls_k == 10
    args = _parse("evaluate", "a", "b", "--dict", "t", "--retrieval", "csls", "--k", "1", "20")
    assert args.retrieval == ["csls"] and args.ks == [1, 20]


def test_translate_arguments():
    args = _parse("translate", "a", "b", "chat", "chien")
    assert args.words == ["chat", "chien"] and args.topn == 5 and args.retrieval == "csls"
    assert args.json is None and args.words_file is None
    args = _parse("translate", "a", "b", "--words-file", "-", "-k", "3", "--json")
    assert args.words == [] and args.words_file == "-" and args.topn == 3 and args.json == "-"
    assert _parse("translate", "a", "b", "x", "--json", "out.json").json == "out.json"


def test_time_budget_help_says_what_it_counts(capsys):
    with pytest.raises(SystemExit):
        _parse("align", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "one l1 step" in text and "share this budget" in text and "own budget" in text
    assert "flow time" in text  # and that max_time is not seconds


@pytest.mark.parametrize("argv", [
    [],
    ["align", "a.vec", "b.vec"],
    ["align", "a.vec", "b.vec", "--seed-dict", "d", "-o", "o.vec", "--solver", "sgd"],
    ["align", "a.vec", "b.vec", "--seed-dict", "d", "-o", "o.vec", "--validation-fraction", "1"],
    ["align", "a.vec", "b.vec", "--seed-dict", "d", "-o", "o.vec", "--validation-folds", "0"],
    ["refine", "a.vec", "b.vec", "-o", "o.vec", "--dict-k", "0"],
    ["refine", "a.vec", "b.vec", "-o", "o.vec", "--dict-max-rank", "many"],
    ["refine", "a.vec", "b.vec", "-o", "o.vec", "--dict-direction", "both"],
    ["evaluate", "a.vec", "b.vec", "--dict", "d", "--max-vocab", "0"],
    ["evaluate", "a.vec", "b.vec", "--dict", "d", "--normalize", "none", "unit"],
    ["evaluate", "a.vec", "b.vec", "--dict", "d", "--normalize", "unitdim"],
    ["evaluate", "a.vec", "b.vec", "--dict", "d", "--retrieval", "invsm"],
    ["evaluate", "a.vec", "b.vec", "--dict", "d", "--k", "0"],
    ["translate", "a.vec", "b.vec", "x", "-k", "-1"],
    ["refine", "a.vec", "b.vec", "-o", "o.vec", "--time-budget", "-1"],
])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == EXIT_USAGE
    assert "error:" in capsys.readouterr().err


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert "l1align" in capsys.readouterr().out
    for command in ("demo", "align", "refine", "evaluate", "translate"):
        assert main([command, "--help"]) == 0
        assert "--normalize" in capsys.readouterr().out
