"""Sphinx configuration for sklearn-l1align.

Build (warnings are errors, the gallery runs every example)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

``docs/generated`` (autosummary stubs), ``docs/auto_examples`` (the gallery) and
``docs/_build`` are build products and are not committed.
"""

import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for _docstring_policy
sys.path.insert(0, str(HERE.parent))  # build from a checkout without installing

# Examples plot off-screen; set before sphinx-gallery imports matplotlib.
os.environ.setdefault("MPLBACKEND", "Agg")

import sklearn_l1align  # noqa: E402
from _docstring_policy import VALIDATION_CHECKS, sphinx_exclusions  # noqa: E402

project = "sklearn-l1align"
author = "sklearn-l1align developers"
copyright = "2025, sklearn-l1align developers"
release = sklearn_l1align.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax ships with the site: formulas render with no network
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
# results.rst is included by user_guide/measured_results.rst, not a page of its own.
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "user_guide/results.rst"]
root_doc = "index"
default_role = "literal"

# -- autodoc / autosummary -------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False  # a module's __all__ is its public API
# Class pages list members (see _templates/autosummary/class.rst); module pages do not,
# since each public function and class of a module gets a page of its own.
autodoc_typehints = "none"  # numpydoc sections carry the types


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document only members written in this package.

    Class pages use ``:inherited-members:`` so that the aligners show ``transform``,
    ``inverse_transform`` and ``score`` from their private base class; this hook
    drops what they inherit from scikit-learn (``get_params``, ``set_output``,
    the generated ``set_*_request`` methods), from ``str``/``Enum``/``tuple`` and
    the named-tuple field accessors, whose docstrings are not ours.
    """
    if skip or what not in ("class", "exception"):
        return skip
    target = obj.fget if isinstance(obj, property) else obj
    module = getattr(target, "__module__", None) or ""
    if isinstance(obj, sklearn_l1align.StopReason):  # enum members, with their #: comments
        return False
    if not module.startswith("sklearn_l1align"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)


# -- numpydoc --------------------------------------------------------------------------
numpydoc_show_class_members = False  # autodoc lists the members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# The check set, and why each check left out is left out, are in _docstring_policy.py:
# every check except ES01 (extended summary), RT02 (named return values, the
# scikit-learn style), SA01 and EX01 (required of classes and functions, not of each
# method; tests/test_docs.py enforces them for those). tests/test_docs.py runs the
# same checks with numpydoc.validate on every public name.
numpydoc_validation_checks = set(VALIDATION_CHECKS)
# Record types (validated by the test against their Attributes section) and the
# package's known, tabled docstring problems (KNOWN_PROBLEMS in _docstring_policy.py).
numpydoc_validation_exclude = sphinx_exclusions()

# -- intersphinx: no network here, so no inventories -----------------------------------
intersphinx_mapping = {}

# -- sphinx-gallery --------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("sklearn_l1align",),
    "download_all_examples": False,
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "image_scrapers": ("matplotlib",),
    "min_reported_time": 0,
    "show_memory": False,
    "log_level": {"backreference_missing": "debug"},
}
# sphinx-gallery reports example failures at the end of the build as an error.

# -- HTML ------------------------------------------------------------------------------
html_theme = "alabaster"
html_theme_options = {
    "description": "ℓ1 refinement of cross-lingual word embeddings",
    "fixed_sidebar": True,
    "show_related": False,
}
html_static_path = []
html_title = f"sklearn-l1align {release}"

# Matplotlib's Agg backend prints nothing, but a non-interactive show() warns.
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")
warnings.filterwarnings("ignore", message="FigureCanvasAgg is non-interactive")
