"""The intermediate model (IR): everything templates may know, and nothing else.

The spec stage reads OpenAPI documents, the IR stage (this package) turns them into one
`Api`, and the templates render that `Api`. Every class here is a frozen dataclass, so a
template cannot change it; collections are tuples in their final, deterministic order.
Values taken from the specs (defaults, examples) are plain JSON data, so an `Api` compares
equal to an equal one but is not hashable.

Names are final Python names: `py_name` is snake_case (methods, fields, arguments),
`class_name` is PascalCase (models, clients). Wire names (`name`, `json_name`) are kept
verbatim for the request and the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ANY",
    "ARRAY",
    "BINARY_BODY",
    "ENUM",
    "JSON_BODY",
    "MAP",
    "NO_CONTENT",
    "OBJECT",
    "PRIMITIVE",
    "TEXT_BODY",
    "UNION",
    "Api",
    "Auth",
    "ClientFlag",
    "Credential",
    "Delivery",
    "DeliveryKind",
    "Discriminator",
    "EventProperty",
    "FieldEncoding",
    "Limits",
    "MediaExample",
    "Operation",
    "OperationGroup",
    "Pagination",
    "Parameter",
    "Property",
    "RequestBody",
    "Response",
    "Route",
    "Schema",
    "SemanticEvent",
    "Server",
    "Surface",
    "VariantConstants",
    "WireFacts",
]

# Schema kinds. A schema is exactly one of these.
OBJECT = "object"  # named model with properties (may also carry additionalProperties)
ARRAY = "array"
PRIMITIVE = "primitive"  # string/integer/number/boolean/null, with an optional format
ENUM = "enum"  # a closed list of literal values (string or integer); const is a 1-value enum
UNION = "union"  # oneOf/anyOf of several variants, optionally with a discriminator
MAP = "map"  # an object with no properties and additionalProperties: a dict
ANY = "any"  # anything JSON

# How a response body is read (`Response.body_kind`); "" for a response with no content.
JSON_BODY = "json"  # parsed as JSON (application/json, */*+json)
TEXT_BODY = "text"  # the text as it is (text/*, XML, YAML, CSV): a str
BINARY_BODY = "binary"  # the bytes as they are (images, octet-stream, PDF...)
# success statuses that never have a body: their data is None
NO_CONTENT = ("204", "205")


@dataclass(frozen=True)
class Limits:
    """Size and rate limits a spec states, enforced by the client before sending."""

    max_request_bytes: int | None = None
    max_item_bytes: int | None = None
    items_field: str | None = (
        None  # the body array whose items max_item_bytes applies to
    )
    rate_requests: int | None = None
    rate_per_seconds: float | None = None
    source: str = ""  # where the limit is stated: "file#/pointer"

    @property
    def empty(self) -> bool:
        return (
            self.max_request_bytes is None
            and self.max_item_bytes is None
            and self.rate_requests is None
        )


@dataclass(frozen=True)
class Bounds:
    """What a value must keep within beyond its type (examples built from the schema keep to
    it): a string's length and `pattern` (as given), a number's range (a bound of no finite
    number is left out; 3.0's boolean and 3.1's numeric exclusive bounds alike), a map's
    least number of entries. One object for the few schemas that state any, so the many
    that state none carry nothing."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    min_properties: int | None = None


@dataclass(frozen=True)
class Discriminator:
    property_name: str  # wire name of the discriminating property
    mapping: tuple[tuple[str, str], ...]  # (value, schema class_name), sorted by value
    # mapped classes that are unions themselves (decoded by their own decoder, not from_dict)
    unions: tuple[str, ...] = ()
    # every variant (and every variant of a variant that is a union) is an object model or
    # a map: the decoder refuses any other JSON value instead of keeping it as raw data
    objects_only: bool = False


@dataclass(frozen=True)
class Property:
    name: str  # wire (JSON) name
    py_name: str  # python attribute / argument name
    schema: Schema
    required: bool
    description: str = ""
    default: Any = None
    has_default: bool = False
    read_only: bool = False
    write_only: bool = False


@dataclass(frozen=True)
class Schema:
    """A normalized schema. `class_name` is set when the schema is a named model (or a link
    to one, which also sets `ref`)."""

    kind: str
    class_name: str = ""  # set for OBJECT, ENUM and UNION that get a generated class
    description: str = ""
    nullable: bool = False
    # PRIMITIVE
    type: str = ""  # string, integer, number, boolean, null
    format: str = ""  # date-time, date, binary, ...
    # ENUM
    enum_type: str = ""  # string or integer (mixed enums become string + raw values)
    enum_values: tuple[Any, ...] = ()
    enum_names: tuple[str, ...] = ()  # Python member names, parallel to enum_values
    # OBJECT
    properties: tuple[Property, ...] = ()
    required: tuple[str, ...] = ()  # wire names
    # required names no property describes (JSON Schema allows them; MAP too): examples
    # give them a value
    required_unlisted: tuple[str, ...] = ()
    required_one_of: tuple[tuple[str, ...], ...] = ()  # anyOf of `required` lists
    additional: Schema | None = None  # additionalProperties schema (ANY for `true`)
    additional_allowed: bool = True  # False when additionalProperties: false
    # ARRAY / MAP
    items: Schema | None = None
    # UNION
    variants: tuple[Schema, ...] = ()
    discriminator: Discriminator | None = None
    # recursive references point at a named schema by class name only
    ref: str = ""  # class_name of a named schema this one stands for (lazy link)
    default: Any = None
    has_default: bool = False
    example: Any = None
    has_example: bool = False
    source: str = ""  # file#/pointer where it is defined
    extensions: tuple[
        tuple[str, Any], ...
    ] = ()  # its x-ciogen-* keys (spec.extensions)
    bounds: Bounds | None = None  # None when the spec states none

    @property
    def is_constant(self) -> bool:
        """A one-value enum (or a const): the schema admits exactly one value."""
        return self.kind == ENUM and len(self.enum_values) == 1


@dataclass(frozen=True)
class Parameter:
    name: str  # wire name
    py_name: str
    location: str  # path, query, header, cookie
    schema: Schema
    required: bool
    description: str = ""
    client_flag: str = ""  # client-level option that sets this header (e.g. "strict")
    client_flag_value: str = ""
    # how the value is written (OpenAPI's `style` and `explode`, defaults filled in: path
    # and header `simple`, query and cookie `form`; explode only for `form`)
    style: str = "form"
    explode: bool = True
    # the media type of a parameter given by `content` instead of `schema` ("" otherwise):
    # a JSON one sends the value JSON-encoded
    content_type: str = ""
    # `allowReserved: true` on a query parameter given by `schema`: its values keep RFC
    # 3986's reserved characters that a query may hold as they are (reserved expansion)
    allow_reserved: bool = False

    @property
    def structured(self) -> bool:
        """Whether its value may be an array or an object (written as its style says);
        a primitive, an enum or a `content` parameter's text is sent as it is."""
        return self.schema.kind not in (PRIMITIVE, ENUM) and not self.content_type

    @property
    def is_constant(self) -> bool:
        """A required parameter that admits one value (Azure's `api-version`, the
        `X-Amz-Target` header of AWS's JSON APIs): the client fills it in, and it tells
        apart operations that share a method and path."""
        return self.required and self.schema.is_constant and not self.schema.class_name


@dataclass(frozen=True)
class MediaExample:
    name: str
    value: Any
    summary: str = ""
    valid: bool = True  # False when the example does not match its schema


@dataclass(frozen=True)
class VariantConstants:
    """The one-value fields of a discriminated union body's variants, by the value of the
    discriminator: filled in when a body given as a plain mapping names its variant
    (`{"type": "delivery", ...}` gets `"action": "event"`) and leaves them out."""

    field: str  # the discriminator's wire name
    by_value: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]  # value -> constants


@dataclass(frozen=True)
class FieldEncoding:
    """How one property of a form or multipart body is written (its media type's
    `encoding` entry): `content_type` (a JSON one sends the value as JSON text), and for
    a form body `style` and `explode` as a query parameter's."""

    name: str  # the property's wire name
    content_type: str = ""
    style: str = "form"
    explode: bool = True


@dataclass(frozen=True)
class RequestBody:
    content_type: str
    schema: Schema
    required: bool
    description: str = ""
    examples: tuple[MediaExample, ...] = ()
    other_content_types: tuple[str, ...] = ()
    # top-level fields with one possible value (`type: track`; for a union, in every
    # variant), filled in when a body given as a plain mapping leaves them out
    constants: tuple[tuple[str, Any], ...] = ()
    variant_constants: VariantConstants | None = None
    # field sets one of which an object body must fill (`anyOf` of `required` lists: a
    # Pipelines call's userId or anonymousId), checked before sending
    one_of: tuple[tuple[str, ...], ...] = ()
    # key paths (through object fields; None: each item of an array) to `format:
    # unix-time` fields: a body given as a plain mapping has datetimes there sent as whole
    # seconds, as a model's to_dict does
    unix_time_fields: tuple[tuple[str | None, ...], ...] = ()
    # the `encoding` entries of a form or multipart body, by name
    encodings: tuple[FieldEncoding, ...] = ()


@dataclass(frozen=True)
class Response:
    status: str  # "200", "4XX", "default"
    description: str
    content_type: str = ""
    # a text or binary body has a string schema (`format: binary` for bytes) whatever the
    # spec wrote, as that is what the client returns
    schema: Schema | None = None
    examples: tuple[MediaExample, ...] = ()
    body_kind: str = ""  # JSON_BODY, TEXT_BODY, BINARY_BODY; "" when it has no content
    # (media type, body kind) of each other type the status declares that is read
    # otherwise than `content_type` (text or bytes): the client reads the type the server
    # sent. Lower-case, without parameters; a `*/*` one is left out (it matches anything).
    other_media: tuple[tuple[str, str], ...] = ()

    @property
    def without_data(self) -> bool:
        """Whether a call answered so hands out None whatever the body holds: a 204 or 205
        (which never has one) or a 3XX that documents no content (what a redirect's body
        holds is a note for browsers), unless a schema says otherwise."""
        if self.schema is not None:
            return False
        return self.status in NO_CONTENT or (
            _is_3xx(self.status) and not self.content_type
        )


@dataclass(frozen=True)
class Pagination:
    """How an operation's responses page: a cursor query parameter and the response field
    holding the next cursor (absent, null or empty at the end)."""

    cursor_param: str  # py_name of the cursor parameter
    limit_param: str  # py_name of the page-size parameter ("" when none)
    next_field: str  # wire name of the response field with the next cursor
    items_field: str  # wire name of the response array holding the page's items
    # set once the response model is known (ir.operations.with_pagination)
    next_attr: str = ""  # the response model's attribute for next_field
    items_attr: str = ""  # ... and for items_field
    item: Schema | None = None  # the schema of one item


@dataclass(frozen=True)
class Operation:
    operation_id: str  # as in the spec, or derived (see normalize.derive_operation_id)
    py_name: str  # method name on the client
    method: str  # upper-case HTTP method
    path: str  # path template, e.g. /v1/customers/{customer_id}
    surface: str  # Surface.name
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    deprecated: bool = False
    parameters: tuple[
        Parameter, ...
    ] = ()  # path first (in path order), then query, header
    # query pairs sent with every call, as written in the path's key (`/rest?method=x`)
    fixed_query: tuple[tuple[str, str], ...] = ()
    body: RequestBody | None = None
    responses: tuple[Response, ...] = ()
    limits: Limits = field(default_factory=Limits)  # effective: surface limits + own
    message_id_field: str = ""  # body field that carries a client-generated message id
    validates_events: bool = (
        False  # body is a track call checked against semantic events
    )
    pagination: Pagination | None = None
    partial_failure: PartialFailure | None = None
    old_py_name: str = ""  # the method's previous name, kept as a deprecated alias
    group: str = (
        ""  # the client attribute of its OperationGroup ("" on the client itself)
    )
    # example data (the spec's own where valid, else built from the schemas; see examples.py)
    example_request: Any = None  # keyword arguments of a valid call
    example_response: Any = None  # the success response's JSON (None: no body)
    success_status: int = 200
    source: str = ""

    @property
    def path_params(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "path")

    @property
    def query_params(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "query")

    @property
    def header_params(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "header")

    @property
    def call_path(self) -> str:
        """How a client reaches the method: `identify`, or `repos.get` in a group."""
        return f"{self.group}.{self.py_name}" if self.group else self.py_name

    @property
    def success(self) -> Response | None:
        """The first response a call returns (the one an answer of an undeclared 2xx status
        is read as, and the one examples and the fake server use): the first 2XX (or
        `default`) one, else the first 3XX one the operation documents."""
        found = self.answers
        return found[0] if found else None

    @property
    def successes(self) -> tuple[Response, ...]:
        """Every 2XX response, exact statuses first (each is decoded with its own schema).
        An operation that declares none is answered as its `default` response says (OpenAPI:
        `default` covers every status not declared): that one then."""
        found = tuple(r for r in self.responses if r.status.startswith("2"))
        return found or tuple(r for r in self.responses if r.status == "default")

    @property
    def redirects(self) -> tuple[Response, ...]:
        """The 3XX responses the operation documents, exact statuses first (GitHub's
        tarball download answers only `302`, its Location header saying where the archive
        is): such an answer is the call's answer, neither an error nor followed. An
        undocumented 3xx stays an error."""
        return tuple(r for r in self.responses if _is_3xx(r.status))

    @property
    def redirect_statuses(self) -> tuple[str, ...]:
        """The statuses of `redirects` ("302", "3XX"): which 3xx answers the client
        returns (its `Call.documented_3xx`)."""
        return tuple(r.status for r in self.redirects)

    @property
    def answers(self) -> tuple[Response, ...]:
        """Every response a call returns rather than raises: the 2XX ones (or `default`),
        then the documented 3XX ones."""
        return self.successes + self.redirects

    @property
    def status_answers(self) -> tuple[Response, ...]:
        """The answers after the first that are read otherwise than it (another schema or
        body kind): the client tells them apart by status."""
        first = self.success
        if first is None:
            return ()
        return tuple(r for r in self.answers[1:] if _read_as(r) != _read_as(first))

    @property
    def response_format(self) -> str:
        """How the body of an answer is read by default (the first answer's way):
        JSON_BODY (also for no content), TEXT_BODY or BINARY_BODY."""
        first = self.success
        return (first.body_kind if first else "") or JSON_BODY

    @property
    def response_formats(self) -> tuple[tuple[str, str], ...]:
        """(status, body kind) of every answer when they are not all read alike (the
        runtime looks up an answer's status, then its range, as "2XX" or "3XX"); else
        ()."""
        kinds = tuple((r.status, r.body_kind or JSON_BODY) for r in self.answers)
        if all(kind == self.response_format for _, kind in kinds):
            return ()
        return kinds

    @property
    def response_media(self) -> tuple[tuple[str, dict[str, str]], ...]:
        """(status, {media type: body kind}) of every answer, and under "" the first
        one's (what an answer of an undeclared status is read as), when one declares
        other media types read otherwise than its own; else (). The runtime reads an
        answer by the type it came with when its status lists that type."""
        if not any(r.other_media for r in self.answers):
            return ()
        media = [(r.status, dict(r.other_media)) for r in self.answers]
        return (*media, ("", media[0][1]))

    @property
    def accept(self) -> str:
        """The Accept header of a call whose answer is not plain JSON: the answers' media
        types ("" when every one is `application/json`, a wildcard or has no content,
        which the client's default `Accept: application/json` asks for; a `+json` type
        such as `application/hal+json` is another type, named here)."""
        if all(
            r.body_kind in ("", JSON_BODY) and _plain_json(r.content_type)
            for r in self.answers
        ):
            return ""
        types = dict.fromkeys(
            t
            for r in self.answers
            for t in (r.content_type, *(media for media, _ in r.other_media))
            if t
        )
        return ", ".join(types)


def _is_3xx(status: str) -> bool:
    """A 3XX status as the client can test it: a code (`302`) or the range itself."""
    return status == "3XX" or (
        len(status) == 3 and status.isdigit() and status.startswith("3")
    )


def _plain_json(content_type: str) -> bool:
    """Whether `Accept: application/json` asks for this media type."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "application/json") or "*" in media


def _read_as(r: Response) -> tuple[Any, ...]:
    """What tells apart how two responses' bodies are read and typed."""
    kinds = frozenset(kind for _, kind in r.other_media)
    return (r.schema, r.body_kind or JSON_BODY, r.without_data, kinds)


@dataclass(frozen=True)
class PartialFailure:
    """A batch operation's answer that accepts the batch but for some items, and lists
    those (`x-ciogen-partial-failure`): its status, its array of refused items, and the
    field of each entry holding the item's 0-based position in the request."""

    status: int
    errors_field: str
    index_field: str


@dataclass(frozen=True)
class Server:
    region: str  # "us", "eu", or "default"/"server1"... for specs that do not say
    url: str
    description: str = ""


@dataclass(frozen=True)
class Credential:
    name: str  # python argument name on the client, e.g. "api_key"
    description: str = ""


@dataclass(frozen=True)
class Auth:
    """How a surface authenticates. `scheme` is basic, bearer, apikey or none."""

    scheme: str
    scheme_name: str = ""  # key in components.securitySchemes
    credentials: tuple[
        Credential, ...
    ] = ()  # basic: (username[, password]); others: (token,)
    header_name: str = "Authorization"  # apikey in header uses its own header
    location: str = "header"  # header, query, cookie (apikey)
    description: str = ""


@dataclass(frozen=True)
class ClientFlag:
    """A client-level option that adds a header to every call (e.g. strict mode)."""

    name: str
    header: str
    value: str
    description: str = ""


@dataclass(frozen=True)
class DeliveryKind:
    """One kind of message a background client enqueues (a batch item variant)."""

    value: str  # its discriminator value ("track")
    py_name: str  # the client method that enqueues one ("track")
    model: Schema  # the item model (`class_name`), with its properties
    one_of: tuple[
        tuple[str, ...], ...
    ] = ()  # at least one of these field sets is needed
    # The (field, value) pairs that tell a message of this kind from the others: the
    # discriminator's and, for a kind of a nested union (Track v2: the entity type, then
    # `action`), the inner one's.
    match: tuple[tuple[str, str], ...] = ()
    # Key paths of the fields a message must hold (besides `match` and what the client
    # fills in); a path into a nested object applies where that object is present.
    required: tuple[tuple[str, ...], ...] = ()
    # (key path of a nested object, field sets one of which it needs), where present.
    nested_one_of: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = ()
    # Key paths of the `format: unix-time` fields (a datetime is sent as whole seconds;
    # None: each item of an array).
    unix_time_fields: tuple[tuple[str | None, ...], ...] = ()


@dataclass(frozen=True)
class Delivery:
    """A surface's batch operation, as its background client uses it."""

    operation_id: str
    path: str
    limits: Limits  # sizes of the request and of each item, items_field, rate
    message_id_field: str = ""  # filled once per message when missing
    timestamp_field: str = ""  # filled with the enqueue time when missing
    timestamp_format: str = ""  # "date-time" or "unix-time": how the time is written
    sent_at_field: str = ""  # stamped at each send
    library_field: str = ""  # dotted path of {name, version} of the client
    kind_field: str = ""  # the property telling kinds apart
    kinds: tuple[DeliveryKind, ...] = ()
    events: bool = False  # semantic events are enqueued too (they are items of a kind)
    # how the API says it refused some of a batch's items
    partial_failure: PartialFailure | None = None


@dataclass(frozen=True)
class OperationGroup:
    """The operations of one tag, on a surface grouped by tag: `client.<name>.<method>()`.
    The group's class lives in its own module, imported when the attribute is first used.
    """

    name: str  # client attribute and module name, snake_case, e.g. "repos"
    class_name: str  # e.g. "ReposOperations" (the async one: "Async" + class_name)
    tag: str  # the spec's tag
    description: str = ""


@dataclass(frozen=True)
class Surface:
    name: str  # snake_case, e.g. "track"
    class_name: str  # client class, e.g. "TrackClient"
    title: str
    description: str
    servers: tuple[Server, ...]  # in spec order; the first is the default region
    auth: Auth  # the first scheme its operations ask for
    limits: Limits = field(default_factory=Limits)
    flags: tuple[ClientFlag, ...] = ()
    operations: tuple[Operation, ...] = ()  # sorted by py_name
    sources: tuple[str, ...] = ()  # spec files that contribute to this surface
    delivery: Delivery | None = None  # background delivery through its batch operation
    groups: tuple[OperationGroup, ...] = ()  # by name; see groups.py
    # the schemes the same requirement names with `auth`, sent with it on every call
    # (an API key and its secret, a token and an application id)
    also_auth: tuple[Auth, ...] = ()

    @property
    def all_auth(self) -> tuple[Auth, ...]:
        """Every scheme the client sends: `auth`, then `also_auth`."""
        return (self.auth, *self.also_auth)

    @property
    def credentials(self) -> tuple[Credential, ...]:
        """The client's credential arguments, in order."""
        return tuple(c for a in self.all_auth for c in a.credentials)

    @property
    def direct_operations(self) -> tuple[Operation, ...]:
        """The operations that are methods of the client itself (not of a group)."""
        return tuple(op for op in self.operations if not op.group)

    def group_operations(self, group: str) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if op.group == group)

    @property
    def groups_package(self) -> str:
        """The subpackage holding the group modules (`<surface>_groups`)."""
        return f"{self.name}_groups"

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(s.region for s in self.servers)

    @property
    def default_region(self) -> str:
        return self.servers[0].region if self.servers else "default"


@dataclass(frozen=True)
class EventProperty:
    name: str
    py_name: str
    schema: Schema
    required: bool
    description: str = ""
    location: str = "properties"  # properties, context.device, top (top-level field)


@dataclass(frozen=True)
class SemanticEvent:
    name: str  # the event name on the wire, e.g. "Email Opened"
    py_name: str  # constructor name, e.g. "email_opened"
    family: str  # action, email, mobile_app, ...
    class_name: str  # the model class of the whole track call
    description: str
    properties: tuple[EventProperty, ...]  # the event's own properties
    properties_required: bool  # the `properties` object itself is required
    additional_properties: bool  # unknown properties allowed
    identity: tuple[
        str, ...
    ]  # wire names accepted as identity: ("userId", "anonymousId")
    identity_required: tuple[str, ...]  # identities the schema requires (may be empty)
    identity_one_of: tuple[str, ...]  # one of these must be given (empty: none needed)
    context: tuple[
        EventProperty, ...
    ]  # context fields the event needs (location context.*)
    example: Any = None  # a complete track call (the spec's, or built from the schema)
    has_example: bool = False  # the example is the spec's own
    from_reference: bool = False  # properties come from shared/reference, not the seed
    fixed: tuple[tuple[str, Any], ...] = ()  # required top-level fields with one value
    top: tuple[
        Property, ...
    ] = ()  # the other top-level fields (not properties/context)
    schema: Schema | None = None
    source: str = ""


@dataclass(frozen=True)
class Route:
    """How a request is told to be a call of an operation (the testing kit's router)."""

    operation_id: str
    method: str
    path: str  # path template
    body_field: str = ""  # a body property that tells operations on one path apart
    body_values: tuple[str, ...] = ()  # its values for this operation
    # (query or header, name, value) that every call of the operation carries: the pairs
    # of its path key's query (`/rest?method=...`) and its constant parameters; header
    # names lower-cased
    fixed: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class WireFacts:
    """Wire names of calls the specs shape alike, found in the schemas (examples.py):
    what the semantic-event checks and the testing kit's assertions look for."""

    event_field: str = ""  # the property naming a semantic event
    user_id_field: str = ""  # the events' first identity field
    properties_field: str = "properties"  # the object holding an event's own properties
    context_field: str = "context"  # the object holding its context fields
    track_method: str = ""  # client method that sends one track call ("" when none)
    kind_field: str = ""  # the property telling batch items apart
    batch_fields: tuple[
        tuple[str, str], ...
    ] = ()  # (operation id, body array of messages)
    body_kinds: tuple[tuple[str, str], ...] = ()  # (operation id, the kind its body is)
    identify_kind: str = ""  # the kind of message that identifies a person
    traits_field: str = ""  # its traits object


@dataclass(frozen=True)
class Api:
    title: str
    name: str  # PascalCase name of the API (Error, fake server and fixture names)
    package: str
    version: str  # generator version
    spec_hash: str  # sha256 over the spec files' names and contents
    surfaces: tuple[Surface, ...]  # sorted by name
    models: tuple[Schema, ...]  # every named OBJECT/ENUM/UNION, sorted by class_name
    events: tuple[SemanticEvent, ...]  # sorted by name
    spec_files: tuple[tuple[str, str], ...]  # (relative path, sha256), sorted
    webhooks: tuple[
        Operation, ...
    ] = ()  # operations the API calls on you (3.1 webhooks)
    wire: WireFacts = field(default_factory=WireFacts)
    routes: tuple[Route, ...] = ()  # most specific first
    # (class name, module of the models package it is in), in models' order
    model_modules: tuple[tuple[str, str], ...] = ()

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(
            sorted(
                (op for s in self.surfaces for op in s.operations),
                key=lambda o: o.operation_id,
            )
        )

    def model(self, class_name: str) -> Schema:
        for m in self.models:
            if m.class_name == class_name:
                return m
        raise KeyError(class_name)
