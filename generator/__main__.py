"""`python -m generator` entry point."""

from .cli import run

run()
