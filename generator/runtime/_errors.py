"""Exceptions raised by the client.

Messages are built only from the status, the method, the path, the request id and the
response's error text: request headers (credentials) and request payloads (personal data) are
never part of a message or a repr.
"""

from __future__ import annotations

import http
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from ._types import Headers

# Checked in this order; the first present wins. The API's own id first, then the ids
# added by the AWS and Cloudflare front ends, which support can also trace.
REQUEST_ID_HEADERS: Final = ("x-request-id", "x-amzn-requestid", "cf-ray")

_MAX_DETAIL_CHARS: Final = 200
_REDACTED: Final = "[REDACTED]"


class Error(Exception):
    """Base class of the exceptions a call or a delivery raises (an invalid argument, such
    as a base URL that is no URL, raises a plain ValueError or TypeError).

    The package exports it under the API's name as well (`<Name>Error`).
    """


class APIError(Error):
    """The API answered with a non-success status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any,
        request_id: str | None,
        method: str,
        path: str,
        retries: int,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body
        self.request_id = request_id
        self.method = method
        self.path = path
        self.retries = retries
        # looked up in any case: `exc.headers["Retry-After"]`
        self.headers: dict[str, str] = Headers(headers)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, method={self.method!r}, "
            f"path={self.path!r}, request_id={self.request_id!r})"
        )


class APIResponseValidationError(APIError):
    """An answer (a 2xx, or a 3xx the operation documents) whose body does not match the
    schema the spec gives it.

    Nothing is lost: `body` holds the parsed JSON as it came, with the status, headers and
    request id; the message names where (the field, and the models that led to it) and what
    did not match (a missing field, a date that does not parse, a list where an object
    belongs), never the values.
    """


class BadRequestError(APIError):
    """400: the request was malformed."""


class AuthenticationError(APIError):
    """401: the credentials were missing or wrong."""


class PermissionDeniedError(APIError):
    """403: the credentials are not allowed to do this."""


class NotFoundError(APIError):
    """404: the resource does not exist."""


class ConflictError(APIError):
    """409: the request conflicts with the resource's current state."""


class UnprocessableEntityError(APIError):
    """422: the request was well-formed but failed validation."""


class RateLimitError(APIError):
    """429: too many requests."""


class InternalServerError(APIError):
    """Any 5xx status."""


class APIConnectionError(Error):
    """No HTTP response was received: connecting, sending or reading failed."""

    def __init__(
        self, message: str, *, retries: int = 0, method: str = "", path: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retries = retries
        self.method = method
        self.path = path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, retries={self.retries})"


class APITimeoutError(APIConnectionError):
    """Connecting or waiting for the response took longer than the timeout."""


class PayloadTooLargeError(Error, ValueError):
    """The request body, or one item of a batch, is over the API's size limit.

    Raised while preparing the request, so nothing was sent.
    """

    def __init__(
        self, *, limit: int, size: int, operation_id: str, index: int | None = None
    ) -> None:
        what = "request body" if index is None else f"item {index}"
        super().__init__(
            f"{operation_id}: {what} is {size} bytes, over the limit of {limit} bytes"
        )
        self.limit = limit
        self.size = size
        self.operation_id = operation_id
        self.index = index


class MissingCredentialError(Error, ValueError):
    """A credential the client needs was passed empty (or only whitespace)."""

    def __init__(self, credential: str, hint: str = "") -> None:
        message = f"missing credential {credential!r}"
        super().__init__(f"{message}: {hint}" if hint else message)
        self.credential = credential


class IncompleteMessageError(Error, ValueError):
    """A message lacks what its kind needs (one of userId or anonymousId, a required field,
    one of the identifiers of a nested object) or a kind this client knows; refused before
    anything is sent or queued (the API would take it and drop it). Names fields, never
    values.

    `kind` is the kind's name ("" when the message has no known kind); `alternatives` the
    field sets (dotted paths) one of which was needed.
    """

    def __init__(
        self,
        kind: str,
        alternatives: tuple[tuple[str, ...], ...],
        choices: tuple[str, ...] = (),
    ) -> None:
        wanted = " or ".join(" and ".join(names) for names in alternatives)
        # plural: no article to get wrong ("a 'identify' message")
        text = (
            f"{kind!r} messages need {wanted}" if kind else f"a message needs {wanted}"
        )
        if choices:
            text += f" set to one of: {', '.join(choices)}"
        super().__init__(text)
        self.kind = kind
        self.alternatives = alternatives
        self.choices = choices


class InvalidCredentialError(Error, ValueError):
    """A credential no request could carry: whitespace at either end (a key read from a
    file often ends in a newline), a control character, or a character outside ASCII. The
    message names the credential and the problem, never its value."""

    def __init__(self, credential: str, problem: str) -> None:
        super().__init__(f"credential {credential!r} {problem}")
        self.credential = credential


_STATUS_ERRORS: Final[Mapping[int, type[APIError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIError]:
    if 500 <= status <= 599:
        return InternalServerError
    return _STATUS_ERRORS.get(status, APIError)


def request_id_from(headers: Mapping[str, str]) -> str | None:
    lowered = {name.lower(): value for name, value in headers.items()}
    for name in REQUEST_ID_HEADERS:
        value = lowered.get(name)
        if value:
            return value
    return None


def error_detail(body: Any, secrets: Iterable[str] = ()) -> str:
    """The API's own explanation, in the shapes error bodies commonly take (`meta.error`,
    `meta.errors`, `errors[].detail`, `error`, `error.message`, `message`, `detail`), else a
    prefix of the body. Several errors are joined with "; ". The `secrets` are redacted
    before the text is cut to its prefix: a secret the cut fell in kept its first
    characters, which no longer matched it."""
    if isinstance(body, Mapping):
        try:
            found = _detail_from_mapping(body)
        except RecursionError:  # str() of a deeply nested `errors[0]`
            found = ""
        if found:
            return _shorten(redact(found, secrets))
    if body is None or body == "":
        return ""
    try:
        text = (
            body
            if isinstance(body, str)
            else json.dumps(body, ensure_ascii=False, default=str)
        )
    except RecursionError:
        # a body nested as deep as the parser could go: no text of it is worth quoting
        return ""
    return _shorten(redact(text, secrets))


def _detail_from_mapping(body: Mapping[str, Any], depth: int = 0) -> str:
    meta = body.get("meta")
    if isinstance(meta, Mapping) and depth < 2:
        found = _detail_from_mapping(meta, depth + 1)
        if found:
            return found
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(_detail_text(error, depth) for error in errors)
    for key in ("error", "message", "detail"):
        if body.get(key):
            return _detail_text(body[key], depth)
    return ""


def _detail_text(value: Any, depth: int) -> str:
    # an error that is an object ({"message": ...}, {"detail": ...}) says it in one of its
    # fields; JSON text (not a Python repr) when none of them is there
    if isinstance(value, Mapping):
        found = _detail_from_mapping(value, depth + 1) if depth < 2 else ""
        return found or json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= _MAX_DETAIL_CHARS:
        return text
    return text[:_MAX_DETAIL_CHARS] + "..."


def redact(text: str, secrets: Iterable[str]) -> str:
    # A server may echo what it received (the Authorization header included) in its error.
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def redact_connection_error(
    exc: APIConnectionError, secrets: Iterable[str]
) -> APIConnectionError:
    """`exc` with the credentials taken out of its message. A transport's message quotes
    what the HTTP library said about a malformed answer, such as the status line it
    could not read, and a server may echo the request's Authorization header as one.

    The message quotes the start of it only: a secret the cut fell in left its first
    characters at the message's end, and one past the cut none; the library's own
    exception, the cause, quoted it whole, and tracebacks show the cause."""
    secrets = tuple(secrets)
    message = redact(exc.message, secrets)
    leaked = _quotes_a_secret(exc.__cause__ or exc.__context__, secrets)
    if leaked:
        message = _redact_cut_secret(message, secrets)
    if leaked or message != exc.message:
        exc.message = message
        exc.args = (message,)
        exc.__cause__ = exc.__context__ = None
        exc.__suppress_context__ = True
    return exc


def _quotes_a_secret(exc: BaseException | None, secrets: tuple[str, ...]) -> bool:
    """Whether `exc`, or an exception it was raised from or during, shows a secret."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        shown = f"{exc} {exc!r}"
        if any(secret and secret in shown for secret in secrets):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _redact_cut_secret(text: str, secrets: tuple[str, ...]) -> str:
    """`text` without the start of a secret it ends with (the longest found)."""
    for secret in secrets:
        for size in range(len(secret) - 1, 0, -1):
            if text.endswith(secret[:size]):
                return text[:-size] + _REDACTED
    return text


def _status_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def error_for_response(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    method: str,
    path: str,
    retries: int,
    *,
    secrets: Iterable[str] = (),
) -> APIError:
    """Build the exception for a non-success response.

    ``path`` must be the URL path only (no host, no query string).
    """
    secrets = tuple(secrets)
    request_id = request_id_from(headers)
    message = f"{status} {_status_phrase(status)} from {method} {path}"
    if request_id:
        message += f" (request id {request_id})"
    detail = error_detail(body, secrets)
    if detail:
        message += f": {detail}"
    return error_class_for(status)(
        redact(message, secrets),
        status_code=status,
        body=body,
        request_id=request_id,
        method=method,
        path=path,
        retries=retries,
        headers=headers,
    )
