"""Progress display for long steps: fraction done, elapsed time, and a short status.

It writes one self-overwriting line to stderr, and only when stderr is a terminal, so logs,
pipes and CI stay clean. It is shown when the caller asks (``verbose >= 1`` in the API) or when
the application turned it on for a block (the ``l1align`` command does, by default), and never
otherwise. No logging handler or level is touched.
"""

import contextlib
import contextvars
import sys
import time

__all__ = ["Progress", "progress_enabled", "show_progress"]

_ENABLED = contextvars.ContextVar("sklearn_l1align_progress", default=False)


@contextlib.contextmanager
def show_progress(enabled=True):
    """Turn progress display on (or off) for the calls made inside the ``with`` block."""
    token = _ENABLED.set(bool(enabled))
    try:
        yield
    finally:
        _ENABLED.reset(token)


def progress_enabled(verbose=0):
    """True when progress should be drawn: ``verbose >= 1`` or inside :func:`show_progress`."""
    return verbose >= 1 or _ENABLED.get()


class Progress:
    """One progress line: ``desc: 42% (21/50) 3.1 s status``.

    Parameters
    ----------
    desc : str
        What is running.
    total : int or float, optional
        The amount of work; None shows only the count and the elapsed time.
    verbose : int, default=0
        The caller's verbosity; see :func:`progress_enabled`.
    stream : file, optional
        Where to draw; default ``sys.stderr``. Nothing is drawn unless it is a terminal.
    min_interval : float, default=0.2
        Seconds between redraws.
    """

    def __init__(self, desc, total=None, *, verbose=0, stream=None, min_interval=0.2):
        self.desc = desc
        self.total = total
        self.done = 0
        self.status = ""
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.active = progress_enabled(verbose) and bool(isatty and isatty())
        self.min_interval = min_interval
        self.start = time.perf_counter()
        self._last_draw = -float("inf")
        self._width = 0

    def update(self, n=1, status=None, *, done=None):
        """Advance by ``n`` (or set the amount ``done``) and redraw at most every ``min_interval``."""
        self.done = self.done + n if done is None else done
        if status is not None:
            self.status = status
        if self.active:
            now = time.perf_counter()
            if now - self._last_draw >= self.min_interval:
                self._last_draw = now
                self._draw(now)

    def line(self, now=None):
        """The text of the progress line."""
        elapsed = (time.perf_counter() if now is None else now) - self.start
        if self.total:
            frac = min(1.0, self.done / self.total)
            count = f"{100 * frac:3.0f}% ({self.done:g}/{self.total:g})"
        else:
            count = f"{self.done:g}"
        text = f"{self.desc}: {count} {elapsed:.1f} s"
        return f"{text} {self.status}" if self.status else text

    def _draw(self, now):
        text = self.line(now)
        pad = max(0, self._width - len(text))
        self._width = len(text)
        try:
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream must never stop the work
            self.active = False

    def close(self):
        """Draw the final state and end the line."""
        if self.active:
            self._draw(time.perf_counter())
            try:
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self.active = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False
