"""``python -m sklearn_l1align``: the ``l1align`` command (see :mod:`sklearn_l1align.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
