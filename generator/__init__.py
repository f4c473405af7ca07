"""ciogen: a spec-driven Python SDK generator for Customer.io's APIs.

Data flows one way, through one package per stage (docs/architecture.md):
spec/ (files, YAML, $refs, extensions, validation) -> ir/ (the model and how it is built)
-> codegen/ (types, imports, text) and render/ (templates, black, output) -> files.
pipeline.py runs the stages; cli.py is the command line.
"""

from .runtime._version import VERSION as __version__

__all__ = ["__version__"]
