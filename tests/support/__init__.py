"""Helpers shared by the test groups (pytest puts tests/ on sys.path: `from support import ...`)."""
