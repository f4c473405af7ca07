"""The codegen stage: how IR values are written as Python, for the templates.

`types.py` holds the per-kind rules (type, decoder, shape test, default), `text.py` turns
spec text into safe literals, docstrings and comments, and `modules.py` decides what each
generated module declares and imports. Everything here is a pure function of IR values.
"""
