"""`python -m generator` entry point."""

from .cli import main

raise SystemExit(main())
