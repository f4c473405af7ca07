"""Names an API may not be given (`--name`, `[tool.ciogen] name`, a name derived from a
title): the IR names the API and the command line checks `--name` against them.

Apart from the IR's package so that the command line checks a name without importing the
IR (`check` answers from its manifest without it).
"""

from __future__ import annotations

import builtins

# `<Name>Error = Error` (the package's __init__) is 88 columns with a name of 75 characters.
API_NAME_LIMIT = 75

# The error classes a generated package exports (codegen/modules.py's export lists hold
# exactly these; a test checks). The package also exports its base class `Error` as
# `<Name>Error`, and its testing kit subclasses `FakeApi` as `Fake<Name>`: a name that makes
# either one of these would replace a real class (`--name NotFound` made NotFoundError
# the base of every error).
PACKAGE_ERRORS = frozenset(
    {
        "APIConnectionError",
        "APIError",
        "APIResponseValidationError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "ConflictError",
        "Error",
        "IncompleteMessageError",
        "InternalServerError",
        "InvalidCredentialError",
        "MissingCredentialError",
        "NotFoundError",
        "PayloadTooLargeError",
        "PermissionDeniedError",
        "RateLimitError",
        "UnprocessableEntityError",
    }
)
DELIVERY_ERRORS = frozenset(
    {
        "DeliveryClosedError",
        "MessageTooLargeError",
        "QueueFullError",
        "RejectedMessageError",
        "SpoolDamagedError",
        "SpoolLockedError",
        "UndeliveredError",
    }
)
TESTING_BASE = "FakeApi"


def api_name_clash(name: str) -> str:
    """What `name`, as the API's name, would make collide ("" if nothing): `<name>Error`
    must be no other error class of the package (nor a built-in exception, which
    `from package import *` would shadow) and `Fake<name>` not the testing kit's base.
    """
    error = f"{name}Error"
    if error in PACKAGE_ERRORS or error in DELIVERY_ERRORS:
        return f"{error} would replace the package's own {error} class"
    if isinstance(getattr(builtins, error, None), type):
        return f"{error} would shadow Python's built-in {error}"
    if f"Fake{name}" == TESTING_BASE:
        return f"Fake{name} would replace the testing kit's base class {TESTING_BASE}"
    return ""
