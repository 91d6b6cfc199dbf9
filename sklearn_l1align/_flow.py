"""Old location of the flow's mathematics; kept only while other modules move their imports.

Everything here now lives in :mod:`sklearn_l1align._geometry` (skew, tangent projection,
Cayley step) and :mod:`sklearn_l1align._objective` (loss, smoothed gradient). Delete this
file once nothing imports ``sklearn_l1align._flow``.
"""

from ._geometry import cayley_step, skew, tangent_projection
from ._objective import (
    SATURATION,
    l1_loss,
    residual,
    smoothed_abs_derivative,
    smoothed_gradient,
)

__all__ = ["SATURATION", "cayley_step", "l1_loss", "residual", "skew", "smoothed_abs_derivative",
           "smoothed_gradient", "tangent_projection"]
