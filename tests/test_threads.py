"""The shared BLAS thread controller (``_threads.controller``)."""

import sys
import types

from sklearn_l1align import _threads
from sklearn_l1align._threads import blas_threads, controller, current_blas_threads


def test_controller_is_kept_until_a_module_is_imported(monkeypatch):
    first = controller()
    assert controller() is first
    monkeypatch.setitem(sys.modules, "_l1align_fake_late_import", types.ModuleType("fake"))
    second = controller()
    assert second is not first
    assert controller() is second


def test_limits_through_the_shared_controller_nest_and_restore():
    before = current_blas_threads()
    with blas_threads(1):
        assert current_blas_threads() == 1
        with blas_threads(1):
            assert current_blas_threads() == 1
        assert current_blas_threads() == 1
    assert current_blas_threads() == before
    assert _threads._cached["controller"] is controller()
