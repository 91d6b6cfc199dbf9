"""Progress reporting: ``verbose`` routes messages through the package logger.

Library code never prints and never configures logging for good. ``verbose=0`` logs at
DEBUG. ``verbose>=1`` logs at INFO; when the application configured no logging at all,
that one message goes to a stderr handler attached for the call only, so it is seen
(as scikit-learn's ``verbose`` would print it), and afterwards the package logger's
handlers and level are exactly as before.
"""

import logging
import sys

PACKAGE_LOGGER = "sklearn_l1align"

_FORMAT = logging.Formatter("[%(name)s] %(message)s")


def _unconfigured(logger):
    """True when no handler anywhere up ``logger``'s hierarchy would show a record."""
    current = logger
    while current is not None:
        if current.handlers:
            return False
        if not current.propagate:
            break
        current = current.parent
    return True


def vlog(logger, verbose, level, msg, *args):
    """Log ``msg`` at INFO when ``verbose >= level``, else at DEBUG."""
    if verbose < level:
        logger.debug(msg, *args)
        return
    if not _unconfigured(logger):
        logger.info(msg, *args)
        return
    # Nobody configured logging: show this record on stderr, without installing anything
    # that outlives the call (no handler, no level left on any logger).
    record = logger.makeRecord(logger.name, logging.INFO, "(vlog)", 0, msg, args, None)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_FORMAT)
    handler.handle(record)
