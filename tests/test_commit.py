"""Fault tests for the one commit (``sklearn_l1align.io._atomic.StagedOutputs``).

The promise: a set of outputs moves into place together or not at all. Signals (SIGINT,
SIGTERM, from the main thread or delivered to another thread, as the kernel does to
OpenBLAS workers) at each rename, a failed rename, a second Ctrl-C, concurrent runs and
a run in another PID namespace must all leave either the whole new set or the whole old
set, and no staging folder. The CLI runs killed mid-way are here too.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sklearn_l1align.io import _atomic
from sklearn_l1align.io._atomic import StagedOutputs, remove_stale_staging, staging_prefix

REPO = Path(__file__).resolve().parents[1]
NAMES = ("out.vec", "out.mapping.npz", "out.report.json")


class Terminated(Exception):
    """What the test's SIGTERM handler raises, as the CLI's turns SIGTERM into a stop."""


@pytest.fixture
def sigterm_raises():
    def handler(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    yield
    signal.signal(signal.SIGTERM, previous)


def _old_set(folder):
    for name in NAMES:
        (folder / name).write_text(f"old {name}\n")
    os.chmod(folder / NAMES[0], 0o640)


def _contents(folder):
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def _hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _stage_new(staged, folder, tag="new"):
    for name in NAMES:
        staged[folder / name].write_text(f"{tag} {name}\n")


def _final_replaces(real_replace, folder, on_call):
    """os.replace that calls ``on_call(k)`` before the k-th move of a staged file into place."""
    count = [0]

    def replace(src, dst, *args, **kwargs):
        if (Path(dst).parent == folder and Path(dst).name in NAMES and ".partial" in str(src)
                and ".previous" not in str(src)):
            count[0] += 1
            on_call(count[0] - 1)
        return real_replace(src, dst, *args, **kwargs)

    return replace


class _Worker:
    """A live non-main thread to deliver signals to, as the kernel may pick a BLAS thread."""

    def __enter__(self):
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.stop.wait, daemon=True)
        self.thread.start()
        return self

    def send(self, sig):
        signal.pthread_kill(self.thread.ident, sig)
        time.sleep(0.005)  # the C-level handler has run; Python's runs at the next check

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


# ----------------------------------------------------------------------------- success
def test_commit_moves_the_set_and_keeps_permissions(tmp_path):
    _old_set(tmp_path)
    with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
        assert len(_hidden(tmp_path)) == 1  # one staging folder, beside the outputs
        _stage_new(staged, tmp_path)
        staged.commit()
    assert _contents(tmp_path) == {n: f"new {n}\n" for n in NAMES}
    assert (os.stat(tmp_path / NAMES[0]).st_mode & 0o777) == 0o640
    assert _hidden(tmp_path) == []


def test_exception_before_commit_leaves_the_old_set(tmp_path):
    _old_set(tmp_path)
    with pytest.raises(RuntimeError):
        with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
            _stage_new(staged, tmp_path)
            raise RuntimeError("fit failed")
    assert _contents(tmp_path) == {n: f"old {n}\n" for n in NAMES}


# ----------------------------------------------------------------------------- signals
@pytest.mark.parametrize("at", [0, 1, 2])
@pytest.mark.parametrize("sender", ["main", "thread"])
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signal_at_each_rename_rolls_the_set_back(tmp_path, monkeypatch, sigterm_raises, at, sender,
                                                  sig):
    signum = getattr(signal, sig)
    expected = KeyboardInterrupt if sig == "SIGINT" else Terminated
    _old_set(tmp_path)
    with _Worker() as worker:
        def on_call(k):
            if k == at:
                if sender == "thread":
                    worker.send(signum)
                else:
                    os.kill(os.getpid(), signum)

        monkeypatch.setattr(os, "replace", _final_replaces(os.replace, tmp_path, on_call))
        with pytest.raises(expected):
            with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
                _stage_new(staged, tmp_path)
                staged.commit()
    # Every rename ran (the signal was held back), then all were undone.
    assert _contents(tmp_path) == {n: f"old {n}\n" for n in NAMES}
    assert (os.stat(tmp_path / NAMES[0]).st_mode & 0o777) == 0o640
    assert _hidden(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_two_ctrl_c_in_the_commit_raise_once(tmp_path, monkeypatch):
    _old_set(tmp_path)

    def on_call(k):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "replace", _final_replaces(os.replace, tmp_path, on_call))
    with pytest.raises(KeyboardInterrupt):
        with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
            _stage_new(staged, tmp_path)
            staged.commit()
    assert _contents(tmp_path) == {n: f"old {n}\n" for n in NAMES}
    assert _hidden(tmp_path) == []


def test_ignored_signal_does_not_stop_the_commit(tmp_path, monkeypatch):
    _old_set(tmp_path)
    monkeypatch.setattr(os, "replace", _final_replaces(
        os.replace, tmp_path, lambda k: os.kill(os.getpid(), signal.SIGTERM)))
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
            _stage_new(staged, tmp_path)
            staged.commit()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert _contents(tmp_path) == {n: f"new {n}\n" for n in NAMES}


_SIGTERM_SCRIPT = r"""
import os, signal, sys
from pathlib import Path
from sklearn_l1align.io._atomic import StagedOutputs
folder = Path(sys.argv[1])
names = ("out.vec", "out.mapping.npz", "out.report.json")
real = os.replace
calls = []
def replace(src, dst):
    if ".partial" in str(src) and Path(dst).name in names:
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
    return real(src, dst)
os.replace = replace
with StagedOutputs([folder / n for n in names]) as staged:
    for n in names:
        staged[folder / n].write_text("new " + n + "\n")
    staged.commit()
print("not reached")
"""


def test_sigterm_with_the_default_handler_exits_143_after_rollback(tmp_path):
    _old_set(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", _SIGTERM_SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 143, done.stderr
    assert "not reached" not in done.stdout
    assert _contents(tmp_path) == {n: f"old {n}\n" for n in NAMES}
    assert _hidden(tmp_path) == []


# ----------------------------------------------------------------------------- failed renames
@pytest.mark.parametrize("at", [0, 1, 2])
def test_failed_rename_rolls_the_set_back(tmp_path, monkeypatch, at):
    _old_set(tmp_path)

    def on_call(k):
        if k == at:
            raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "replace", _final_replaces(os.replace, tmp_path, on_call))
    with pytest.raises(PermissionError):
        with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
            _stage_new(staged, tmp_path)
            staged.commit()
    assert _contents(tmp_path) == {n: f"old {n}\n" for n in NAMES}
    assert _hidden(tmp_path) == []


def test_failure_to_set_an_old_file_aside_rolls_back(tmp_path, monkeypatch):
    # An immutable old report cannot be linked (nor replaced): EPERM before anything moves.
    _old_set(tmp_path)
    real_link = os.link

    def link(src, dst, *args, **kwargs):
        if Path(src).name == NAMES[2]:
            raise PermissionError(1, "Operation not permitted", str(src))
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", link)
    with pytest.raises(PermissionError):
        with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
            _stage_new(staged, tmp_path)
            staged.commit()
    assert _contents(tmp_path) == {n: f"old {n}\n" for n in NAMES}
    assert _hidden(tmp_path) == []


def test_failed_rename_removes_new_files_that_had_no_old_one(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", _final_replaces(
        os.replace, tmp_path, lambda k: (_ for _ in ()).throw(OSError(28, "No space")) if k == 2
        else None))
    with pytest.raises(OSError, match="No space"):
        with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
            _stage_new(staged, tmp_path)
            staged.commit()
    assert list(tmp_path.iterdir()) == []


def test_without_hard_links_the_set_still_rolls_back(tmp_path, monkeypatch):
    _old_set(tmp_path)
    monkeypatch.setattr(os, "link", lambda *a, **k: (_ for _ in ()).throw(OSError(95, "no links")))

    def on_call(k):
        if k == 2:
            raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "replace", _final_replaces(os.replace, tmp_path, on_call))
    with pytest.raises(OSError, match="I/O error"):
        with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
            _stage_new(staged, tmp_path)
            staged.commit()
    assert _contents(tmp_path) == {n: f"old {n}\n" for n in NAMES}


@pytest.mark.skipif(os.geteuid() != 0, reason="chattr +i needs root")
def test_immutable_old_report_rolls_back(tmp_path):
    _old_set(tmp_path)
    if subprocess.run(["chattr", "+i", str(tmp_path / NAMES[2])], capture_output=True,
                      check=False).returncode != 0:
        pytest.skip("this file system has no immutable flag")
    try:
        with pytest.raises(PermissionError):
            with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
                _stage_new(staged, tmp_path)
                staged.commit()
        assert _contents(tmp_path) == {n: f"old {n}\n" for n in NAMES}
        assert _hidden(tmp_path) == []
    finally:
        subprocess.run(["chattr", "-i", str(tmp_path / NAMES[2])], check=False)


# ----------------------------------------------------------------------------- concurrency
def test_concurrent_commits_never_interleave(tmp_path, monkeypatch):
    real_replace = os.replace

    def slow_replace(src, dst, *args, **kwargs):
        time.sleep(0.002)  # widen the window in which two sets could mix
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", slow_replace)
    errors = []

    def run(tag):
        try:
            for _ in range(10):
                with StagedOutputs([tmp_path / n for n in NAMES]) as staged:
                    _stage_new(staged, tmp_path, tag)
                    staged.commit()
                # A reader that takes the folder's lock, as commits do, sees one whole set.
                fd = _atomic._try_lock(tmp_path, blocking=True)
                try:
                    tags = {p.read_text().split()[0] for p in (tmp_path / n for n in NAMES)}
                finally:
                    os.close(fd)
                assert len(tags) == 1, tags
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(tag,)) for tag in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({(tmp_path / n).read_text().split()[0] for n in NAMES}) == 1
    assert _hidden(tmp_path) == []


_LIVE_SCRIPT = r"""
import sys
from pathlib import Path
from sklearn_l1align.io._atomic import StagedOutputs
folder = Path(sys.argv[1])
with StagedOutputs([folder / "out.vec"]) as staged:
    print(staged[folder / "out.vec"].parent, flush=True)
    sys.stdin.readline()
"""


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_live_run_keeps_its_staging_folder_whatever_its_name_says(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    live = subprocess.Popen([sys.executable, "-c", _LIVE_SCRIPT, str(tmp_path)], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        folder = Path(live.stdout.readline().strip())
        assert folder.is_dir()
        remove_stale_staging(tmp_path)
        assert folder.is_dir()
        # Seen from another PID namespace, the same folder names a pid that does not exist
        # here (or is another process). Its lock is still held: it must stay.
        foreign = tmp_path / f"{staging_prefix(_dead_pid(), namespace='otherns')}x.partial"
        folder.rename(foreign)
        os.utime(foreign, (time.time() - 3600, time.time() - 3600))
        remove_stale_staging(tmp_path)
        assert foreign.is_dir()
        # Same namespace, a dead pid in the name, lock held: stays too.
        same = tmp_path / f"{staging_prefix(_dead_pid())}y.partial"
        foreign.rename(same)
        remove_stale_staging(tmp_path)
        assert same.is_dir()
    finally:
        live.communicate("\n", timeout=30)


def test_stale_staging_folders_of_killed_runs_are_removed(tmp_path):
    dead = _dead_pid()
    old = time.time() - 3600
    stale = tmp_path / f"{staging_prefix(dead)}a.partial"
    foreign_old = tmp_path / f"{staging_prefix(dead, namespace='otherns')}b.partial"
    foreign_young = tmp_path / f"{staging_prefix(dead, namespace='otherns')}c.partial"
    mine = tmp_path / f"{staging_prefix()}d.partial"
    other_host = tmp_path / f".l1align-otherhost-{dead}-e.partial"
    # The older naming, <host>-<pid>-<random>: removed only after a day.
    older = f"{_atomic.hoststaging_prefix()}{dead}-"
    older_day, older_hour = tmp_path / f"{older}f.partial", tmp_path / f"{older}g.partial"
    not_ours = tmp_path / f"{_atomic.hoststaging_prefix()}x-h.partial"
    folders = (stale, foreign_old, foreign_young, mine, other_host, older_day, older_hour,
               not_ours)
    for folder in folders:
        folder.mkdir()
        (folder / "out.vec").write_text("half-written")
    for folder in (foreign_old, older_hour, not_ours):
        os.utime(folder, (old, old))
    day_old = time.time() - _atomic.STALE_OLDER_NAMING_AGE - 60
    os.utime(older_day, (day_old, day_old))
    remove_stale_staging(tmp_path)
    assert not stale.exists() and not foreign_old.exists() and not older_day.exists()
    assert foreign_young.is_dir() and mine.is_dir() and other_host.is_dir()
    assert older_hour.is_dir() and not_ours.is_dir()


# ----------------------------------------------------------------------------- the CLI, killed
def _write_inputs(folder, n=1500, d=50):
    from scipy.stats import special_ortho_group

    from sklearn_l1align.io import write_word2vec

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    Y = X @ special_ortho_group.rvs(d, random_state=0) + 0.3 * rng.normal(size=(n, d))
    write_word2vec(folder / "src.vec", [f"s{i}" for i in range(n)], X)
    write_word2vec(folder / "tgt.vec", [f"t{i}" for i in range(n)], Y)
    (folder / "seed.txt").write_text("".join(f"s{i} t{i}\n" for i in range(500)), encoding="utf-8")


def _cli(folder, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    return [sys.executable, "-m", "sklearn_l1align", "align", str(folder / "src.vec"),
            str(folder / "tgt.vec"), "--seed-dict", str(folder / "seed.txt"), "-o",
            str(folder / "out.vec"), "--no-validation", *args], env


def _snapshot(folder):
    """Every entry of the folder (hidden ones included) with its bytes."""
    return {p.name: p.read_bytes() if p.is_file() else None for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory):
    """A folder holding the inputs and the outputs of a finished ℓ2 run."""
    folder = tmp_path_factory.mktemp("killed")
    _write_inputs(folder)
    cmd, env = _cli(folder, "--refine", "none", "-q")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return folder


def _run_until(cmd, env, marker, timeout=60):
    """Start ``cmd``, return it once ``marker`` appears on its stderr (read by a thread)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = threading.Event()
    lines = []

    def read():
        for line in proc.stderr:
            lines.append(line)
            if marker in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not seen.wait(timeout):
        proc.kill()
        pytest.fail(f"the run never logged {marker!r}; stderr:\n{''.join(lines)}")
    return proc, reader, lines


@pytest.mark.slow
@pytest.mark.parametrize("signals, status, says", [
    ((signal.SIGKILL,), -signal.SIGKILL, None),
    ((signal.SIGINT,), 130, "l1align: interrupted"),
    ((signal.SIGINT, signal.SIGINT), 130, "l1align: interrupted"),  # a second Ctrl-C, 20 ms later
    ((signal.SIGTERM,), 143, "l1align: terminated"),
], ids=["SIGKILL", "SIGINT", "SIGINT-twice", "SIGTERM"])
def test_killed_cli_run_leaves_earlier_outputs_intact(previous_run, signals, status, says):
    folder = previous_run
    before = _snapshot(folder)
    assert {"out.vec", "out.mapping.npz", "out.report.json"} <= set(before)
    # The paper's VODE flow takes minutes on this problem: the signal lands during the fit.
    cmd, env = _cli(folder, "--solver", "vode")
    proc, reader, lines = _run_until(cmd, env, "l1 refinement (vode solver")
    time.sleep(1.0)  # well into the integration
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.02)
    assert proc.wait(timeout=60) == status, "".join(lines)
    reader.join(timeout=10)
    if says is not None:
        # One line, no traceback.
        assert lines[-1].startswith(says), "".join(lines)
        assert not any("Traceback" in line for line in lines), "".join(lines)
    # Byte for byte the same files, and nothing else (no staging folder, no temporary file).
    assert _snapshot(folder) == before


@pytest.mark.slow
def test_next_run_removes_the_staging_folder_of_a_killed_run(tmp_path):
    # A SIGKILL while the outputs are being moved into place leaves the hidden staging
    # folder behind. The next run writing there removes it, but only if no live run holds
    # it and it was made on this host.
    _write_inputs(tmp_path, n=300, d=20)
    dead = _dead_pid()
    stale = tmp_path / f"{staging_prefix(dead)}abc123.partial"
    live = tmp_path / f"{staging_prefix(os.getpid())}def456.partial"
    foreign = tmp_path / f".l1align-otherhost-{dead}-ghi789.partial"
    for folder in (stale, live, foreign):
        folder.mkdir()
        (folder / "out.vec").write_text("half-written")
    cmd, env = _cli(tmp_path, "--refine", "none")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert not stale.exists()
    assert f"Removed {stale}" in done.stderr
    assert live.is_dir() and foreign.is_dir()
    assert (tmp_path / "out.vec").is_file()
    # Nothing else hidden is left by the run itself.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == sorted(
        [live.name, foreign.name])


_CLI_WITH_SIGNAL_AT_RENAME = r"""
import os, signal, sys
from pathlib import Path
sig = getattr(signal, sys.argv[1])
real = os.replace
calls = []
def replace(src, dst):
    if ".partial" in str(src) and ".previous" not in str(src):
        calls.append(1)
        if len(calls) == 2:  # between the renames of the outputs
            os.kill(os.getpid(), sig)
    return real(src, dst)
os.replace = replace
from sklearn_l1align.cli import main
sys.argv = ["l1align"] + sys.argv[2:]
sys.exit(main())
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig, status, says", [("SIGTERM", 143, "l1align: terminated"),
                                               ("SIGINT", 130, "l1align: interrupted")])
def test_cli_signal_during_the_commit_keeps_the_earlier_outputs(previous_run, sig, status, says):
    folder = previous_run
    before = _snapshot(folder)
    cmd, env = _cli(folder, "--refine", "none", "-q")
    done = subprocess.run([sys.executable, "-c", _CLI_WITH_SIGNAL_AT_RENAME, sig, *cmd[3:]], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == status, done.stderr
    assert done.stderr.splitlines() == [done.stderr.splitlines()[-1]]
    assert done.stderr.startswith(says)
    assert _snapshot(folder) == before
