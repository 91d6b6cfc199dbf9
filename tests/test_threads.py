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


def test_by_row_blocks_covers_the_rows_once_in_order_and_measures_two_probes():
    from sklearn_l1align._threads import by_row_blocks

    calls = []

    def fn(start, stop):
        calls.append((start, stop, current_blas_threads()))
        return stop - start

    with blas_threads(2):
        parts = by_row_blocks(fn, 1000)
    assert sum(parts) == 1000
    assert [(a, b) for a, b, _ in calls] == [(0, 62), (62, 124), (124, 1000)]
    if current_blas_threads() > 1:  # a machine with two cores: one probe each way
        assert [t for *_, t in calls[:2]] == [1, 2]
    calls.clear()
    assert by_row_blocks(fn, 1000, measure=False) == [1000]
    assert by_row_blocks(fn, 10) == [10]  # too few rows for two probes
