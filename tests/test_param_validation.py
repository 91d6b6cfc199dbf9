"""Parameter validation of the public objects that have no ``fit``: solvers and the builder.

scikit-learn's ``check_param_validation`` (run for every public estimator with ``fit`` in
``test_estimator_checks.py``) calls ``fit``; the solvers are used through ``solve(A, B)``
and the dictionary builder through ``build(X_src, X_tgt)``. This module applies the same
rules to them, as imbalanced-learn's ``test_check_param_validation`` does for its samplers:

* ``_parameter_constraints`` names exactly the constructor parameters;
* a value of a type no constraint admits is refused by the working method with
  scikit-learn's message ("The 'p' parameter of Name must be ... Got ... instead.");
* for each constraint, a value just outside it (``generate_invalid_param_val``) is refused;
* every default satisfies its own constraints.
"""

import inspect

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import (
    InvalidParameterError,
    generate_invalid_param_val,
    make_constraint,
)

import sklearn_l1align


def _working_method(obj):
    for method in ("solve", "build"):
        if hasattr(obj, method):
            return method
    return None


def _public_fitless():
    """Every public class with ``_parameter_constraints`` whose working method is not ``fit``."""
    found = []
    for name in sklearn_l1align.__all__:
        obj = getattr(sklearn_l1align, name)
        if (inspect.isclass(obj) and issubclass(obj, BaseEstimator) and not hasattr(obj, "fit")
                and _working_method(obj) is not None):
            found.append(obj)
    return found


CLASSES = _public_fitless()

RNG = np.random.default_rng(0)
A = RNG.normal(size=(30, 4))
B = RNG.normal(size=(30, 4))


def _call(obj):
    method = _working_method(obj)
    return getattr(obj, method)(A, B)


def test_the_discovery_finds_the_solvers_and_the_builder():
    names = {cls.__name__ for cls in CLASSES}
    assert {"StiefelFlowSolver", "CSLSDictionaryBuilder", "ADMMSolver",
            "HuberContinuationSolver", "RiemannianSubgradientSolver"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_constraints_name_exactly_the_parameters(cls):
    params = set(cls().get_params(deep=False))
    assert set(cls._parameter_constraints) == params


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_defaults_satisfy_their_constraints(cls):
    for name, value in cls().get_params(deep=False).items():
        constraints = cls._parameter_constraints[name]
        if constraints == "no_validation":
            continue
        assert any(make_constraint(c).is_satisfied_by(value) for c in constraints), (name, value)


def _cases():
    bad_type = type("BadType", (), {})()
    for cls in CLASSES:
        for name, constraints in cls._parameter_constraints.items():
            if constraints == "no_validation":
                continue
            yield pytest.param(cls, name, bad_type, id=f"{cls.__name__}-{name}-badtype")
            for i, constraint in enumerate(constraints):
                try:
                    value = generate_invalid_param_val(make_constraint(constraint))
                except NotImplementedError:
                    continue
                # A value another constraint admits is valid, not a test case.
                if any(make_constraint(c).is_satisfied_by(value) for c in constraints):
                    continue
                yield pytest.param(cls, name, value, id=f"{cls.__name__}-{name}-{i}")


@pytest.mark.parametrize("cls, name, value", list(_cases()))
def test_invalid_values_are_refused_with_sklearn_wording(cls, name, value):
    obj = clone(cls()).set_params(**{name: value})
    with pytest.raises(InvalidParameterError,
                       match=rf"The '{name}' parameter of {cls.__name__} must be .* Got .* instead."):
        _call(obj)
