"""Every gallery example runs to the end, as a script, with a non-interactive backend.

The Sphinx build runs them too, but only where the docs extras are installed; this module
needs matplotlib alone. The examples take tens of seconds each on 2 cores, so they carry the
``slow`` and ``examples`` markers: ``python -m pytest -m examples`` runs them, and CI does.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FILES = sorted((ROOT / "examples").glob("plot_*.py"))


@pytest.mark.slow
@pytest.mark.examples
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_runs(path, tmp_path):
    pytest.importorskip("matplotlib", reason="the examples draw with matplotlib: pip install '.[plot]'")
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, f"{path.name} failed after {seconds:.0f} s:\n{proc.stderr[-5000:]}"
    print(f"{path.name}: {seconds:.1f} s")
