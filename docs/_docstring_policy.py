"""The docstring policy shared by ``docs/conf.py`` and ``tests/test_docs.py``.

One place says which numpydoc checks apply, which objects are public, and which
known problems are tolerated for now, so that the Sphinx build (``-W``) and the
test suite enforce exactly the same rules.

The checks
----------
``VALIDATION_CHECKS`` is numpydoc's own notation: ``"all"`` followed by the codes
that are *not* checked. Every public class, function, method and property must pass
all the others. Left out, each for a reason:

* ``ES01`` (no extended summary): a one-line ``transform`` or ``n_iter`` docstring
  is complete; an extended summary would only repeat it.
* ``RT02`` (the first line of Returns holds only a type): this package follows
  scikit-learn and names its return values (``self : ProcrustesAligner``,
  ``X_mapped : ndarray of shape ...``), which numpydoc's RT02 forbids.
* ``SA01`` and ``EX01`` (See Also, Examples): required of every public class and
  module-level function (``OBJECT_CHECKS``, enforced by ``tests/test_docs.py``),
  but not of each method, as in scikit-learn. numpydoc's Sphinx hook cannot tell a
  method from a function, so these two run in the test only.

Record types (dataclasses, named tuples and enums) are documented by an
``Attributes`` section: their constructor is not something users call, so ``PR01``
is replaced, for them, by the rule that every field appears under ``Attributes``.
"""

import dataclasses
import enum
import importlib
import inspect
import re

from numpydoc.docscrape import ClassDoc
from numpydoc.validate import Validator, get_validation_checks, validate

#: numpydoc's notation: every check except those listed after "all".
VALIDATION_CHECKS = {"all", "ES01", "RT02", "SA01", "EX01"}

#: Extra checks for public classes and module-level functions (not methods).
OBJECT_CHECKS = {"SA01", "EX01"}

#: The package whose ``__all__`` lists the top-level public names.
PACKAGE = "sklearn_l1align"

#: Public modules whose ``__all__`` (or, without one, public top-level functions and
#: classes) are documented; ``docs/api.rst`` lists the same modules. A module that
#: does not import is reported by ``missing_modules`` (and fails the docs test)
#: rather than crashing the import of this file.
PUBLIC_MODULES = (
    "sklearn_l1align.metrics",
    "sklearn_l1align.io",
    "sklearn_l1align.datasets",
    "sklearn_l1align.gensim",
    "sklearn_l1align.cli",
    "sklearn_l1align.parallel",
    "sklearn_l1align.model_selection",
)

#: Known docstring problems in the package, tolerated for now, one line each with
#: its reason. ``tests/test_docs.py`` fails when a listed problem is fixed (so the
#: entry is removed) or when an unlisted one appears. ``docs/conf.py`` excludes the
#: objects listed here with a code of ``VALIDATION_CHECKS`` from numpydoc's Sphinx
#: validation, so that ``sphinx-build -W`` reports everything else.
KNOWN_PROBLEMS = {
}


def resolved_checks():
    """Return the set of numpydoc codes that ``VALIDATION_CHECKS`` enables."""
    return get_validation_checks(set(VALIDATION_CHECKS))


def is_record_type(obj):
    """Return whether ``obj`` is a dataclass, named tuple or enum class."""
    if not inspect.isclass(obj):
        return False
    return (
        dataclasses.is_dataclass(obj)
        or issubclass(obj, enum.Enum)
        or (issubclass(obj, tuple) and hasattr(obj, "_fields"))
    )


def _record_fields(cls):
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    if issubclass(cls, enum.Enum):
        return []  # members carry their own ``#:`` comments
    return list(cls._fields)


def _own(member, raw):
    """Whether a class member is a public callable or property defined in the package."""
    target = raw.fget if isinstance(raw, property) else member
    if not (inspect.isfunction(target) or isinstance(raw, property)):
        return False
    return (getattr(target, "__module__", None) or "").startswith(PACKAGE)


def _class_members(path, cls):
    for name, member in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        raw = inspect.getattr_static(cls, name)
        if _own(member, raw):
            yield f"{path}.{name}", ("property" if isinstance(raw, property) else "method")


def _module_names(module):
    names = getattr(module, "__all__", None)
    if names is not None:
        return [n for n in names if not n.startswith("__")]
    return sorted(
        n for n, v in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(v) or inspect.isclass(v))
        and getattr(v, "__module__", "") == module.__name__
    )


def _import(name):
    """Import a public module; return ``(module, None)`` or ``(None, error message)``.

    Any exception counts (a module being edited may raise ``SyntaxError``): the
    failure is reported by ``missing_modules`` and by autosummary, instead of
    crashing ``docs/conf.py`` with a misleading "syntax error in your configuration
    file".
    """
    try:
        return importlib.import_module(name), None
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        return None, f"{type(exc).__name__}: {exc}"


def missing_modules():
    """Return the entries of ``PUBLIC_MODULES`` that cannot be imported, with the error."""
    missing = {}
    for name in PUBLIC_MODULES:
        _, error = _import(name)
        if error is not None:
            missing[name] = error
    return missing


def public_objects():
    """List the public objects to validate as ``(dotted name, kind)``.

    ``kind`` is ``"class"``, ``"function"``, ``"method"`` or ``"property"``.
    Methods are those defined in the package (inherited ones included, e.g.
    ``transform`` from the private aligner base), not scikit-learn's.
    """
    out = []
    sources = [(PACKAGE, importlib.import_module(PACKAGE))]
    for name in PUBLIC_MODULES:
        module, _ = _import(name)
        if module is not None:
            sources.append((name, module))
    for modname, module in sources:
        for name in _module_names(module):
            obj = getattr(module, name)
            path = f"{modname}.{name}"
            if inspect.isclass(obj):
                out.append((path, "class"))
                out.extend(_class_members(path, obj))
            elif callable(obj):
                out.append((path, "function"))
    return out


def _resolve(path):
    return Validator._load_obj(path)


def problems(path, kind):
    """Return the policy's ``[(code, message), ...]`` for one public object.

    Known problems (``KNOWN_PROBLEMS``) are included: callers decide what to do
    with them.
    """
    codes = resolved_checks()
    if kind in ("class", "function"):
        codes |= OBJECT_CHECKS
    errors = [(c, m) for c, m in validate(path)["errors"] if c in codes]
    obj = _resolve(path) if kind == "class" else None
    if obj is not None and is_record_type(obj):
        errors = [(c, m) for c, m in errors if c != "PR01"]
        documented = {p.name for p in ClassDoc(obj, config={"show_class_members": False})["Attributes"]}
        documented = {n.strip() for name in documented for n in name.split(",")}
        missing = [f for f in _record_fields(obj) if f not in documented]
        if missing:
            errors.append(("PR01", f"Record fields {missing} not documented under Attributes"))
    return errors


def sphinx_exclusions():
    """Regexes for ``numpydoc_validation_exclude``: the objects Sphinx must not validate.

    Record types (validated by the test with their own PR01 rule), enum members and
    module constants (documented by ``#:`` comments), and objects with a known
    problem among the Sphinx-checked codes.
    """
    names = set()
    codes = resolved_checks()
    for path, kind in public_objects():
        obj = _resolve(path) if kind == "class" else None
        if obj is not None and is_record_type(obj):
            names.add(path)
        if obj is not None and issubclass(obj, enum.Enum):
            # Members are documented by ``#:`` comments, which have no quotes (GL02)
            # and need not be sentences; the class docstring describes them.
            names.update(f"{path}.{member}" for member in obj.__members__)
    for name in PUBLIC_MODULES:
        module, _ = _import(name)
        if module is None:
            continue
        for attr in _module_names(module):
            value = getattr(module, attr)
            if not (callable(value) or inspect.ismodule(value)):
                # Module constants are documented by ``#:`` comments, not docstrings.
                names.add(f"{name}.{attr}")
    for path, code in KNOWN_PROBLEMS:
        if code in codes:
            names.add(path)
    return {f"^{re.escape(n)}$" for n in names}
