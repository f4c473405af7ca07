"""ciogen: a spec-driven Python SDK generator for Customer.io's APIs.

Data flows one way: specs -> loader -> IR (ir.py) -> templates -> files.
"""

from .runtime._version import VERSION as __version__

__all__ = ["__version__"]
