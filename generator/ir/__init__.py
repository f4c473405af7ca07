"""The IR stage: one `Api` (model.py) built from the spec stage's documents (build.py).

`schemas.py` converts schemas into models, `operations.py` reads operations, `surfaces.py`
groups them into clients, `events.py` finds the semantic events and `examples.py` decides
every example value the package ships. The model's names are re-exported here, so the rest
of the generator writes `ir.Schema`, `ir.OBJECT`.
"""

from .model import *
from .model import __all__ as __all__
