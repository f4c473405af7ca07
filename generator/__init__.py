"""ciogen: a spec-driven Python SDK generator for Customer.io's APIs.

Data flows one way: specs -> loader -> IR (ir.py) -> templates -> files.
"""

__version__ = "0.1.0"
