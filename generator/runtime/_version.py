"""Which package this is and which ciogen version made it (the User-Agent names both)."""

from typing import Final

# The package's import name, whatever name it was generated or vendored under.
PACKAGE: Final = __name__.rpartition(".")[0] or __name__
# The ciogen release that generated the package (the generator's own version is this one).
VERSION: Final = "0.1.0"
