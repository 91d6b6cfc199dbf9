"""Built-in sample data: a small French-Russian demo set with its loader."""

from ._demo import load_demo

__all__ = ["load_demo"]
