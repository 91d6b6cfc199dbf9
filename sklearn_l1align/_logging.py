"""Progress reporting: ``verbose`` routes messages through the package logger.

Library code never prints. ``verbose=0`` logs at DEBUG; ``verbose>=1`` logs at INFO and,
if the application configured no logging at all, attaches one stderr handler to the
package logger so the messages are seen (as scikit-learn's ``verbose`` would print them).
"""

import logging
import sys

PACKAGE_LOGGER = "sklearn_l1align"


def _ensure_visible():
    pkg = logging.getLogger(PACKAGE_LOGGER)
    if pkg.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(name)s] %(message)s"))
    pkg.addHandler(handler)
    if pkg.level == logging.NOTSET or pkg.level > logging.INFO:
        pkg.setLevel(logging.INFO)


def vlog(logger, verbose, level, msg, *args):
    """Log ``msg`` at INFO when ``verbose >= level``, else at DEBUG."""
    if verbose >= level:
        _ensure_visible()
        logger.info(msg, *args)
    else:
        logger.debug(msg, *args)
