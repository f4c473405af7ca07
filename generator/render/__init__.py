"""The render stage: IR -> the bytes of every file of the package.

`plan.py` lists the files (templates and the verbatim runtime), `environment.py` sets up
Jinja with the codegen filters, `formatting.py` runs black on pieces of each module with a
cache, and `output.py` writes the package atomically and compares it with what is on disk.
"""
