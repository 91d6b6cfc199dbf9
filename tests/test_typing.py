"""The public API is annotated (PEP 484/604), and the ``py.typed`` marker ships with it.

The public callables are discovered from the modules' ``__all__``, so a name added there
later without annotations fails here. Methods are checked where the package defines them
(inherited scikit-learn methods, such as ``get_feature_names_out``, are not ours to annotate).
"""

import __future__

import importlib
import inspect
import sys
from pathlib import Path

import pytest

import sklearn_l1align

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]

#: The modules whose ``__all__`` is the public API.
PUBLIC_MODULES = [
    "sklearn_l1align",
    "sklearn_l1align.metrics",
    "sklearn_l1align.io",
    "sklearn_l1align.gensim",
    "sklearn_l1align.model_selection",
    "sklearn_l1align.datasets",
]

#: Public methods checked on every public class that defines them.
METHODS = ("__init__", "fit", "transform", "inverse_transform", "fit_transform", "score",
           "solve", "build", "split", "get_n_splits", "report", "to_dict",
           "get_feature_names_out")

_SKIPPED_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _defined_here(function):
    """Whether ``function`` (unwrapped from decorators) is written in this package."""
    module = getattr(inspect.unwrap(function), "__module__", "") or ""
    return module.split(".")[0] == "sklearn_l1align"


def _public_callables():
    seen = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                for method in METHODS:
                    function = inspect.getattr_static(obj, method, None)
                    if isinstance(function, (staticmethod, classmethod)):
                        function = function.__func__
                    if function is None or not callable(function) or not _defined_here(function):
                        continue
                    if function in seen:
                        continue
                    seen.add(function)
                    yield f"{module_name}.{name}.{method}", function
            elif callable(obj):
                if obj in seen:
                    continue
                seen.add(obj)
                yield f"{module_name}.{name}", obj
    from sklearn_l1align.cli import main

    yield "sklearn_l1align.cli.main", main


PUBLIC_CALLABLES = dict(_public_callables())


def test_discovery_finds_the_public_api():
    # Guard the discovery itself: if it silently found nothing, the checks below would pass.
    names = set(PUBLIC_CALLABLES)
    expected = {
        "sklearn_l1align.L1ProcrustesAligner.fit",
        "sklearn_l1align.L1ProcrustesAligner.transform",
        "sklearn_l1align.ProcrustesAligner.__init__",
        "sklearn_l1align.L1ProcrustesAligner.__init__",
        "sklearn_l1align.StiefelFlowSolver.solve",
        "sklearn_l1align.ADMMSolver.solve",
        "sklearn_l1align.CSLSDictionaryBuilder.build",
        "sklearn_l1align.EmbeddingNormalizer.transform",
        "sklearn_l1align.procrustes_rotation",
        "sklearn_l1align.metrics.bli_precision",
        "sklearn_l1align.io.read_word2vec",
        "sklearn_l1align.gensim.translate",
        "sklearn_l1align.model_selection.select_refinement",
        "sklearn_l1align.model_selection.VocabularyAligner.score",
        "sklearn_l1align.datasets.load_demo",
        "sklearn_l1align.cli.main",
    }
    assert expected <= names, sorted(expected - names)


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLABLES))
def test_public_signature_is_annotated(name):
    function = PUBLIC_CALLABLES[name]
    signature = inspect.signature(function)
    missing = [
        parameter.name
        for parameter in signature.parameters.values()
        if parameter.name not in ("self", "cls")
        and parameter.kind not in _SKIPPED_KINDS
        and parameter.annotation is inspect.Parameter.empty
    ]
    assert not missing, f"{name}: parameters without annotations: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, (
        f"{name}: the return is not annotated"
    )


#: Modules whose public callables carry runtime annotations on purpose: only ``main``'s
#: signature is annotated in the CLI package, which needs no ``__future__`` import.
_EAGER_ANNOTATION_MODULES = {"sklearn_l1align.cli"}


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLABLES))
def test_annotations_are_postponed(name):
    # ``from __future__ import annotations`` keeps annotations as strings, so importing a
    # module never evaluates them (the numpy.typing and gensim names are imported for type
    # checkers only), while inspect.signature, which scikit-learn's get_params and
    # validate_params read, still sees the same names, kinds and defaults.
    function = inspect.unwrap(PUBLIC_CALLABLES[name])
    module = inspect.getmodule(function)
    if module.__name__ in _EAGER_ANNOTATION_MODULES:
        pytest.skip(f"{module.__name__} annotates eagerly")
    assert getattr(module, "annotations", None) is __future__.annotations, module.__name__
    for parameter in inspect.signature(function).parameters.values():
        if parameter.annotation is not inspect.Parameter.empty:
            assert isinstance(parameter.annotation, str), (name, parameter.name)


def _estimator_classes():
    for name in sorted(PUBLIC_CALLABLES):
        if not name.endswith(".__init__"):
            continue
        module_name, class_name, _ = name.rsplit(".", 2)
        cls = getattr(importlib.import_module(module_name), class_name)
        if hasattr(cls, "_get_param_names"):  # a scikit-learn estimator
            yield cls


@pytest.mark.parametrize("cls", list(_estimator_classes()), ids=lambda cls: cls.__name__)
def test_get_params_still_sees_every_init_parameter(cls):
    init = inspect.signature(cls.__init__)
    expected = sorted(p for p in init.parameters if p != "self")
    assert cls._get_param_names() == expected
    # and a default-constructed estimator reports the signature's defaults, untouched
    defaults = {p.name: p.default for p in init.parameters.values() if p.name != "self"}
    if any(default is inspect.Parameter.empty for default in defaults.values()):
        return  # a required parameter (VocabularyAligner): no default instance to build
    assert cls().get_params(deep=False) == defaults


def test_py_typed_marker_exists_and_is_packaged():
    marker = Path(sklearn_l1align.__file__).with_name("py.typed")
    assert marker.is_file()
    with open(ROOT / "pyproject.toml", "rb") as handle:
        config = tomllib.load(handle)
    package_data = config["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["sklearn_l1align"]


def test_the_package_type_checks(tmp_path):
    """mypy (configured in pyproject.toml) finds no error in the package's own code.

    The annotations are only worth shipping (``py.typed``) if the bodies agree with them.
    """
    pytest.importorskip("mypy")
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert "Success" in proc.stdout
