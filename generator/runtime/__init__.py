"""The runtime of every generated package: plain Python modules, the same for every spec.

Each module here (and `py.typed`) is copied verbatim into the generated package, beside the
modules the templates make from the specs. This `__init__.py` is not copied: it only makes
the runtime importable where it lives, so it is linted, type-checked and tested directly.
Nothing here may name an API, a URL, a limit or an event: what a spec states reaches the
runtime through the generated modules.
"""
