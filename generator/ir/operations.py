"""Operations: every path item and webhook of every root document -> `ir.Operation`s.

`OperationReader` reads an operation's parameters, request body and responses (converting
their schemas with the shared `SchemaBuilder`), decides which surface (client) it belongs to
and which servers it uses, and keeps each as an `OperationRow` until `surfaces.py` groups
them. Method names and surface-wide facts (limits, message ids) are decided there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Optional
from urllib.parse import unquote

from ..errors import Finding, SpecError, escape, shown
from ..spec import extensions
from ..spec.reader import Document
from ..spec.refs import Workspace
from . import model as ir
from .examples import TOO_DEEP, too_deep
from .naming import bounded, dedupe, pascal, snake
from .schemas import SchemaBuilder

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ARG_RESERVED = (
    "self",
    "body",
    "max_retries",
    "timeout",
    "extra_headers",
    "extra_query",
    # the functions the operation's code calls (_operation.j2; its own variables start
    # with `_`, which no parameter's name does): a query parameter `to_json` shadowed the
    # one that writes the JSON body, and sending any body called a str (TypeError)
    "replace",
    "to_json",
    "to_form",
    "with_unix_times",
    "unix_time",
    "reserved",
    "json_param",
    "styled",
    "check_track_call",
    "query_param",
    "cookie_header",
    "iterate_pages",
    "aiterate_pages",
)
# a path template's parameter (`{name}`)
PATH_PARAM = re.compile(r"\{[^{}]+\}")
PARAM_ORDER = {"path": 0, "query": 1, "header": 2, "cookie": 3}
# header parameters OpenAPI says to ignore that the client sets itself, from the media
# types of the responses and the request body (a parameter beside them wrote the header
# dict with "Accept" twice); compared in lower case, as HTTP names headers. OpenAPI also
# ignores `Authorization`, which is kept: many specs describe their credentials only so.
IGNORED_HEADERS = ("accept", "content-type")
IGNORED_HEADER = (
    "parameter ignored: OpenAPI ignores a header parameter named Accept or Content-Type "
    "(the media types of the responses and the request body set these headers)"
)
# a request body the client can only write as JSON, declared under another media type
SENT_AS_JSON = (
    "the body is sent as JSON under {media}: the client writes a structured body as "
    "JSON, a form or multipart, never in another format (such as XML)"
)
# OpenAPI's `style` of a parameter that names none, by location
DEFAULT_STYLES = {
    "path": "simple",
    "query": "form",
    "header": "simple",
    "cookie": "form",
}
# media types whose body is text, beyond text/*
TEXT_MEDIA = ("application/xml", "application/yaml", "application/x-yaml")
TEXT_SUFFIXES = ("+xml", "+yaml")


def is_json_media(content_type: str) -> bool:
    """application/json (with parameters or not) and the +json types."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def body_kind(content_type: str, schema: ir.Schema | None) -> str:
    """How a response body of this media type and schema is read (ir.JSON_BODY...).

    JSON types are parsed; a `format: binary` string is bytes whatever the type; text/*,
    XML and YAML are text; a wildcard (`*/*`, common in generated specs for JSON) is read
    by its schema, text for a string and JSON otherwise; any other type (images, PDF,
    octet-stream) is bytes.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if is_json_media(media):
        return ir.JSON_BODY
    string = (
        schema is not None and schema.kind == ir.PRIMITIVE and schema.type == "string"
    )
    if string and schema is not None and schema.format == "binary":
        return ir.BINARY_BODY
    if (
        media.startswith("text/")
        or media in TEXT_MEDIA
        or media.endswith(TEXT_SUFFIXES)
    ):
        return ir.TEXT_BODY
    if "*" in media:
        return ir.TEXT_BODY if string else ir.JSON_BODY
    return ir.BINARY_BODY


def writes_as_declared(content_type: str, schema: ir.Schema) -> bool:
    """Does the client write a request body of this schema as its media type says? A
    structured value (an object, array, map or union) is written as JSON, a form or
    multipart; under any other type (XML, octet-stream, an empty or invalid type) it is
    still JSON. A wildcard (`*/*`) admits JSON."""
    if schema.kind not in (ir.OBJECT, ir.ARRAY, ir.MAP, ir.UNION):
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        is_json_media(media)
        or "*" in media
        or media in ("application/x-www-form-urlencoded", "multipart/form-data")
    )


def body_schema(kind: str, schema: ir.Schema | None) -> ir.Schema | None:
    """The schema of what the client returns for a body read as `kind`: a JSON body's
    own; a string for text and bytes (`format: binary`) for binary, whatever the spec
    wrote (an XML body's object schema says nothing about the str the client hands out).
    """
    if kind == ir.JSON_BODY:
        return schema
    description = schema.description if schema is not None else ""
    if kind == ir.TEXT_BODY:
        if (
            schema is not None
            and schema.kind == ir.PRIMITIVE
            and schema.type == "string"
        ):
            return schema
        return ir.Schema(kind=ir.PRIMITIVE, type="string", description=description)
    if schema is not None and schema.kind == ir.PRIMITIVE and schema.format == "binary":
        return schema
    return ir.Schema(
        kind=ir.PRIMITIVE, type="string", format="binary", description=description
    )


def text(node: Any, key: str) -> str:
    value = node.get(key) if isinstance(node, dict) else None
    return value.strip() if isinstance(value, str) else ""


def tags(op: dict[str, Any]) -> tuple[str, ...]:
    """The operation's tags (what is no list of names is left to the validator to report)."""
    raw = op.get("tags")
    return tuple(t for t in raw if isinstance(t, str)) if isinstance(raw, list) else ()


def derive_operation_id(method: str, path: str) -> str:
    """`GET /v1/customers/{id}/events` -> `get_v1_customers_by_id_events`."""
    parts = [method.lower()]
    for seg in path.strip("/").split("/"):
        if seg.startswith("{") and seg.endswith("}"):
            parts.append("by_" + snake(seg[1:-1]))
        elif seg:
            parts.append(snake(seg))
    return "_".join(parts)


def split_path_key(key: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A key of `paths` -> (the path requests go to, the query pairs written after a `?`).

    Real documents write a query string into a key (`/rest?method=flickr.photos.search`,
    `/alerts?lat={lat}`), or a fragment that only tells apart operations on one path
    (`/#X-Amz-Target=Service.Action`). Neither is part of the path on the wire (written
    there they would be percent-encoded into it), and a fragment is never sent at all.
    """
    rest = key.partition("#")[0]
    path, _, query = rest.partition("?")
    pairs = []
    for item in query.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return path, tuple(pairs)


def _region_of(server: dict[str, Any], index: int) -> str:
    explicit = extensions.region(server)
    if explicit:
        return snake(explicit)
    words = f"{server.get('description', '')} {server.get('url', '')}"
    if re.search(r"\bEU\b|[-.]eu[-.]", words):
        return "eu"
    if re.search(r"\bUS\b", words):
        return "us"
    return "default" if index == 0 else f"server{index + 1}"


def _server_url(server: dict[str, Any]) -> str:
    url = str(server.get("url", "/"))
    variables = server.get("variables") or {}
    for name, var in sorted(variables.items()) if isinstance(variables, dict) else []:
        default = var.get("default", "") if isinstance(var, dict) else ""
        url = url.replace("{" + name + "}", str(default))
    return url.rstrip("/") if url != "/" else url


def servers(raw: Any, doc: Document, where: str) -> tuple[ir.Server, ...]:
    """The `servers` list at `where`, each with its region (see docs/conventions.md)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SpecError(doc.name, where, "servers must be a list")
    out: list[ir.Server] = []
    for i, s in enumerate(raw):
        if not isinstance(s, dict) or not isinstance(s.get("url"), str):
            raise SpecError(doc.name, f"{where}/{i}", "a server needs a url")
        out.append(ir.Server(_region_of(s, i), _server_url(s), text(s, "description")))
    names = dedupe([s.region for s in out])
    return tuple(ir.Server(n, s.url, s.description) for s, n in zip(out, names))


def limits(node: dict[str, Any], doc: Document, where: str) -> ir.Limits:
    """The `x-ciogen-limits` of a root document or an operation as `ir.Limits`."""
    found = extensions.limits(node, doc.name, where)
    return ir.Limits(
        max_request_bytes=found.max_request_bytes,
        max_item_bytes=found.max_item_bytes,
        items_field=found.items_field,
        rate_requests=found.rate_requests,
        rate_per_seconds=found.rate_per_seconds,
        source=f"{doc.name}#{found.where}" if found.where else "",
    )


@dataclass(frozen=True)
class OperationRow:
    """An operation before its surface is assembled: where it came from and what it asks."""

    doc: Document
    surface: str
    servers: tuple[ir.Server, ...]
    scheme: str  # the first security scheme it asks for ("" when none)
    op: ir.Operation
    # the schemes its first requirement names with `scheme` (all needed at once)
    together: tuple[str, ...] = ()

    @property
    def requirement(self) -> tuple[str, ...]:
        """Every scheme its first requirement names (() when it asks for none)."""
        return (self.scheme, *self.together) if self.scheme else ()

    @property
    def file(self) -> str:
        """The file the operation is written in (its path item may be another file's)."""
        return self.op.source.split("#", 1)[0]

    @property
    def pointer(self) -> str:
        """Where the operation stands in `file`."""
        return self.op.source.split("#", 1)[1]


class OperationReader:
    """Reads operations and webhooks, converting their schemas with `schemas`."""

    def __init__(self, ws: Workspace, schemas: SchemaBuilder) -> None:
        self.ws = ws
        self.schemas = schemas
        self.rows: list[OperationRow] = []
        self.webhooks: list[ir.Operation] = []
        self._server_surfaces: dict[tuple[str, ...], str] = (
            {}
        )  # server URLs -> surface name

    # ---- surfaces -----------------------------------------------------------------------

    @staticmethod
    def surface_name(doc: Document) -> str:
        """A root document's surface: `x-ciogen-surface`, else its title, else its file name
        (bounded: it names a module)."""
        explicit = extensions.surface(doc.data)
        if explicit:
            return bounded(snake(explicit))
        return bounded(
            snake(text(doc.data.get("info") or {}, "title") or doc.path.stem)
        )

    def _server_surface(self, own: tuple[ir.Server, ...], home: str) -> str:
        """The surface of operations with servers of their own: named after the host; when
        that name is another surface's (other servers on the same host, say `/v1` and `/v2`),
        after the host and the first segment of the base path, then numbered."""
        urls = tuple(sorted(s.url for s in own))
        if urls in self._server_surfaces:
            return self._server_surfaces[urls]
        rest = re.sub(r"^[a-z]+://", "", own[0].url)
        host, _, base_path = rest.partition("/")
        name = base = bounded(snake(host.split(".")[0] or "api"))
        taken = set(self._server_surfaces.values()) | {home}
        segment = snake(base_path.split("/")[0]) if base_path else ""
        if name in taken and segment:
            name = f"{base}_{segment}"
        n = 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        self._server_surfaces[urls] = name
        return name

    # ---- operations ---------------------------------------------------------------------

    def read_paths(self, doc: Document) -> None:
        paths = doc.data.get("paths") or {}
        if not isinstance(paths, dict):
            raise SpecError(doc.name, "/paths", "paths must be an object")
        root_servers = servers(doc.data.get("servers"), doc, "/servers")
        for path in sorted(paths):
            if path.startswith("x-"):  # an extension: the Paths object allows them
                continue
            idoc, pptr, item = self._path_item(doc, path, paths[path])
            path_servers = servers(item.get("servers"), idoc, pptr + "/servers")
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item[method]
                optr = f"{pptr}/{method}"
                if not isinstance(op, dict):
                    raise SpecError(idoc.name, optr, "an operation must be an object")
                own_servers = servers(op.get("servers"), idoc, optr + "/servers")
                used = own_servers or path_servers or root_servers
                explicit = extensions.surface(op) or extensions.surface(item)
                if explicit:
                    surface = snake(explicit)
                elif (own_servers or path_servers) and used != root_servers:
                    surface = self._server_surface(used, self.surface_name(doc))
                else:
                    surface = self.surface_name(doc)
                operation = self._operation(
                    idoc, path, method, item, op, optr, pptr, surface
                )
                # the operation belongs to the root document `doc` (its surface, default
                # security and servers), wherever the path item is written
                scheme, together = self._requirement(doc, op)
                self.rows.append(
                    OperationRow(doc, surface, used, scheme, operation, together)
                )

    def _path_item(
        self, doc: Document, path: str, node: Any
    ) -> tuple[Document, str, dict[str, Any]]:
        """The path item of `path` in `doc`, the document it is written in and its pointer
        there: a `$ref` (or a chain of them) is followed, and what is inside is read in
        the file it leads to, whose own `$ref`s are relative to that file."""
        idoc, pptr, item = self.ws.deref(doc, node, "/paths/" + escape(path))
        if not isinstance(item, dict):
            raise SpecError(idoc.name, pptr, "a path item must be an object")
        return idoc, pptr, item

    @staticmethod
    def _requirement(doc: Document, op: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        """The first security scheme the operation asks for ("" when none), and the
        others its requirement names with it (every one needed at once)."""
        security = op.get("security", doc.data.get("security"))
        for req in security if isinstance(security, list) else []:
            if isinstance(req, dict) and req:
                first, *others = sorted(str(name) for name in req)
                return first, tuple(others)
        return "", ()

    def _operation(
        self,
        doc: Document,
        path: str,
        method: str,
        item: dict[str, Any],
        op: dict[str, Any],
        optr: str,
        pptr: str,
        surface: str,
    ) -> ir.Operation:
        op_id = op.get("operationId")
        if op_id is not None and not isinstance(op_id, str):
            raise SpecError(
                doc.name, optr + "/operationId", "operationId must be a string"
            )
        # derived from the whole key: keys that differ only after a `?` or `#` are
        # different operations
        op_id = op_id or derive_operation_id(method, path)
        hint = pascal(op_id)
        wire_path, pairs = split_path_key(path)
        params, fixed = self._parameters(
            doc, wire_path, pairs, item, op, pptr, optr, hint
        )
        return ir.Operation(
            operation_id=op_id,
            py_name="",
            method=method.upper(),
            path=wire_path,
            fixed_query=fixed,
            surface=surface,
            summary=text(op, "summary"),
            description=text(op, "description"),
            tags=tags(op),
            deprecated=op.get("deprecated") is True,
            parameters=params,
            body=self._request_body(
                doc, op.get("requestBody"), optr + "/requestBody", hint
            ),
            responses=self._responses(
                doc, op.get("responses"), optr + "/responses", hint
            ),
            limits=limits(op, doc, optr),
            pagination=self._pagination(doc, op, optr, params),
            partial_failure=self._partial_failure(doc, op, optr),
            source=f"{doc.name}#{optr}",
        )

    def _partial_failure(
        self, doc: Document, op: dict[str, Any], optr: str
    ) -> ir.PartialFailure | None:
        found = extensions.partial_failure(op, doc.name, optr)
        if found is None:
            return None
        responses = op.get("responses")
        if not isinstance(responses, dict) or str(found.status) not in responses:
            where = f"{optr}/{escape(extensions.PARTIAL_FAILURE)}/status"
            raise SpecError(
                doc.name, where, f"the operation declares no {found.status} response"
            )
        return ir.PartialFailure(found.status, found.errors, found.index)

    def _pagination(
        self,
        doc: Document,
        op: dict[str, Any],
        optr: str,
        params: tuple[ir.Parameter, ...],
    ) -> ir.Pagination | None:
        found = extensions.pagination(op, doc.name, optr)
        if found is None:
            return None
        query = {p.name: p.py_name for p in params if p.location == "query"}
        where = f"{optr}/{escape(extensions.PAGINATION)}"
        for key, name in (("cursor", found.cursor), ("limit", found.limit)):
            if name and name not in query:
                raise SpecError(
                    doc.name, f"{where}/{key}", f"no query parameter {name!r}"
                )
        return ir.Pagination(
            cursor_param=query[found.cursor],
            limit_param=query.get(found.limit, ""),
            next_field=found.next,
            items_field=found.items,
        )

    def _parameters(
        self,
        doc: Document,
        path: str,
        pairs: tuple[tuple[str, str], ...],
        item: dict[str, Any],
        op: dict[str, Any],
        pptr: str,
        optr: str,
        hint: str,
    ) -> tuple[tuple[ir.Parameter, ...], tuple[tuple[str, str], ...]]:
        """The operation's parameters, and the query pairs of its key sent as they are
        (`pairs`: what its key has after a `?`, see split_path_key)."""
        merged: dict[tuple[str, str], tuple[Document, str, dict[str, Any]]] = {}
        for base, raw in ((pptr, item.get("parameters")), (optr, op.get("parameters"))):
            if raw is None:
                continue
            if not isinstance(raw, list):
                raise SpecError(
                    doc.name, base + "/parameters", "parameters must be a list"
                )
            for i, p in enumerate(raw):
                pdoc, where, node = self.ws.deref(doc, p, f"{base}/parameters/{i}")
                if not isinstance(node, dict) or not isinstance(node.get("name"), str):
                    raise SpecError(pdoc.name, where, "a parameter needs a name")
                loc = node.get("in")
                if not isinstance(loc, str) or loc not in PARAM_ORDER:
                    raise SpecError(
                        pdoc.name,
                        where + "/in",
                        f"unknown parameter location {shown(loc)}",
                    )
                if loc == "header" and node["name"].lower() in IGNORED_HEADERS:
                    self.schemas.findings.append(
                        Finding(pdoc.name, where, IGNORED_HEADER)
                    )
                    continue
                merged[(loc, node["name"])] = (pdoc, where, node)
        declared = re.findall(r"{([^}]+)}", path)
        fixed: dict[str, str] = {}
        for name, value in pairs:
            var = re.fullmatch(r"{([^{}]+)}", value)
            if var is None:
                if ("query", name) not in merged:  # a declared parameter says more
                    fixed.setdefault(name, value)
                continue
            if ("query", name) in merged:
                continue
            # `?key={apiKey}` declared as a path parameter (its variable is in the key):
            # it is sent in the query, under the key's name
            undeclared = (doc, optr, {"required": True, "schema": {"type": "string"}})
            pdoc, where, node = (
                merged.get(("path", var.group(1)), undeclared)
                if var.group(1) in declared
                else merged.pop(("path", var.group(1)), undeclared)
            )
            merged[("query", name)] = (
                pdoc,
                where,
                {**node, "in": "query", "name": name},
            )
        for name in declared:
            if ("path", name) not in merged:
                # a template variable with no declaration still has to be passed
                merged[("path", name)] = (
                    doc,
                    optr,
                    {
                        "name": name,
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                )

        def order(key: tuple[str, str]) -> tuple[int, int, str]:
            loc, name = key
            pos = declared.index(name) if loc == "path" and name in declared else 0
            return (PARAM_ORDER[loc], pos, name)

        keys = sorted(merged, key=order)
        py_names = dedupe([snake(name) for _, name in keys], reserved=ARG_RESERVED)
        params = tuple(
            self._parameter(*merged[key], key[0], py_name, hint)
            for key, py_name in zip(keys, py_names)
        )
        return params, tuple(fixed.items())

    def _parameter(
        self,
        doc: Document,
        where: str,
        node: dict[str, Any],
        loc: str,
        py_name: str,
        hint: str,
    ) -> ir.Parameter:
        snode: Any = node.get("schema")
        sptr = where + "/schema"
        content = node.get("content")
        ctype = ""
        if snode is None and isinstance(content, dict) and content:
            ctype = min(content)
            snode = (
                content[ctype].get("schema")
                if isinstance(content[ctype], dict)
                else None
            )
            sptr = f"{where}/content/{escape(ctype)}/schema"
        schema = (
            self.schemas.convert(doc, sptr, snode, hint + pascal(node["name"]))
            if snode is not None
            else ir.Schema(kind=ir.PRIMITIVE, type="string")
        )
        style = node.get("style")
        if not isinstance(style, str) or not style:
            style = DEFAULT_STYLES[loc]
        flag = extensions.client_flag(node)
        flag_value = ""
        if flag and schema.is_constant:
            flag_value = str(schema.enum_values[0])
        return ir.Parameter(
            name=node["name"],
            py_name=py_name,
            location=loc,
            schema=schema,
            required=loc == "path" or node.get("required") is True,
            description=text(node, "description") or schema.description,
            client_flag=snake(flag) if flag_value else "",
            client_flag_value=flag_value,
            style=style,
            explode=node.get("explode", style == "form") is not False,
            content_type=ctype,
            # OpenAPI gives it to query parameters serialized by their `style` only
            allow_reserved=loc == "query"
            and not ctype
            and node.get("allowReserved") is True,
        )

    @staticmethod
    def pick_content_type(content: dict[str, Any]) -> str:
        """JSON first, then any +json type, then forms, then the first by name."""
        if "application/json" in content:
            return "application/json"
        types = sorted(content)
        for t in types:
            if t.endswith("+json") or t.startswith("application/json"):
                return t
        for preferred in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for t in types:
                if t.split(";", 1)[0].strip().lower() == preferred:
                    return t
        return types[0]

    def _examples(
        self, doc: Document, media: dict[str, Any], where: str
    ) -> tuple[ir.MediaExample, ...]:
        out: list[ir.MediaExample] = []
        if "example" in media:
            out.append(ir.MediaExample(name="example", value=media["example"]))
        raw = media.get("examples")
        if isinstance(raw, dict):
            for name in sorted(raw):
                _, _, ex = self.ws.deref(
                    doc, raw[name], f"{where}/examples/{escape(name)}"
                )
                if isinstance(ex, dict) and "value" in ex:
                    out.append(ir.MediaExample(name, ex["value"], text(ex, "summary")))
        kept = []
        for ex in out:
            if too_deep(ex.value):
                at = "/example" if ex.name == "example" and "example" in media else ""
                at = at or f"/examples/{escape(ex.name)}"
                self.schemas.findings.append(Finding(doc.name, where + at, TOO_DEEP))
            else:
                kept.append(ex)
        return tuple(kept)

    def _request_body(
        self, doc: Document, raw: Any, where: str, hint: str
    ) -> ir.RequestBody | None:
        if raw is None:
            return None
        bdoc, where, node = self.ws.deref(doc, raw, where)
        if not isinstance(node, dict):
            raise SpecError(bdoc.name, where, "requestBody must be an object")
        content = node.get("content") or {}
        if not isinstance(content, dict) or not content:
            return None
        ctype = self.pick_content_type(content)
        media = content[ctype] if isinstance(content[ctype], dict) else {}
        mptr = f"{where}/content/{escape(ctype)}"
        snode = media.get("schema")
        schema = (
            self.schemas.convert(bdoc, mptr + "/schema", snode, hint + "Request")
            if snode is not None
            else ir.Schema(kind=ir.ANY)
        )
        if not writes_as_declared(ctype, schema):
            message = SENT_AS_JSON.format(
                media=shown(ctype) if ctype else "no media type"
            )
            self.schemas.findings.append(Finding(bdoc.name, mptr, message))
        return ir.RequestBody(
            content_type=ctype,
            schema=schema,
            required=node.get("required") is True,
            description=text(node, "description"),
            examples=self._examples(bdoc, media, mptr),
            other_content_types=tuple(t for t in sorted(content) if t != ctype),
            encodings=self._encodings(media, ctype),
        )

    @staticmethod
    def _encodings(media: dict[str, Any], ctype: str) -> tuple[ir.FieldEncoding, ...]:
        """A form or multipart body's `encoding` entries (what a property's is when the
        spec gives none is the runtime's: form style, exploded; a part by its value)."""
        raw = media.get("encoding")
        if not isinstance(raw, dict) or not (
            ctype.lower().startswith(
                ("application/x-www-form-urlencoded", "multipart/")
            )
        ):
            return ()
        out = []
        for name in sorted(raw):
            node = raw[name]
            if not isinstance(node, dict):
                continue
            style = node.get("style")
            style = style if isinstance(style, str) and style else "form"
            content_type = node.get("contentType")
            out.append(
                ir.FieldEncoding(
                    name=name,
                    content_type=content_type if isinstance(content_type, str) else "",
                    style=style,
                    explode=node.get("explode", style == "form") is not False,
                )
            )
        return tuple(out)

    def _responses(
        self, doc: Document, raw: Any, where: str, hint: str
    ) -> tuple[ir.Response, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise SpecError(doc.name, where, "responses must be an object")

        def order(code: str) -> tuple[int, str]:
            return (
                (2, code)
                if code == "default"
                else (1, code) if "X" in code.upper() else (0, code)
            )

        out: list[ir.Response] = []
        for code in sorted(raw, key=order):
            if code.startswith("x-"):  # an extension: the Responses object allows them
                continue
            rdoc, rptr, node = self.ws.deref(doc, raw[code], f"{where}/{escape(code)}")
            if not isinstance(node, dict):
                raise SpecError(rdoc.name, rptr, "a response must be an object")
            content = node.get("content") or {}
            schema = None
            ctype = kind = ""
            examples: tuple[ir.MediaExample, ...] = ()
            other_media: tuple[tuple[str, str], ...] = ()
            if isinstance(content, dict) and content:
                ctype = self.pick_content_type(content)
                media = content[ctype] if isinstance(content[ctype], dict) else {}
                mptr = f"{rptr}/content/{escape(ctype)}"
                suffix = (
                    "Response"
                    if code in ("200", "201", "2XX")
                    else f"Response{pascal(code)}"
                )
                if media.get("schema") is not None:
                    schema = self.schemas.convert(
                        rdoc, mptr + "/schema", media["schema"], hint + suffix
                    )
                examples = self._examples(rdoc, media, mptr)
                kind = body_kind(ctype, schema)
                schema = body_schema(kind, schema)
                other_media = self._other_media(rdoc, content, ctype, kind, rptr)
            out.append(
                ir.Response(
                    status=code.upper() if "X" in code.upper() else code,
                    description=text(node, "description"),
                    content_type=ctype,
                    schema=schema,
                    examples=examples,
                    body_kind=kind,
                    other_media=other_media,
                )
            )
        return tuple(out)

    def _other_media(
        self, doc: Document, content: dict[str, Any], ctype: str, kind: str, where: str
    ) -> tuple[tuple[str, str], ...]:
        """The response's other media types that are read otherwise than `ctype` (as
        text or bytes), with how (see ir.Response.other_media). A JSON one is read as
        `ctype` is: it is that type (JSON comes first) or a wildcard; and a `*/*` one
        would match every answer."""
        out: dict[str, str] = {}
        for t in sorted(content):
            media = t.split(";", 1)[0].strip().lower()
            if t == ctype or media.startswith("*"):
                continue
            node = content[t] if isinstance(content[t], dict) else {}
            sptr = f"{where}/content/{escape(t)}/schema"
            _, _, snode = self.ws.deref(doc, node.get("schema"), sptr)
            # what body_kind asks of a schema: whether it is a (binary) string
            schema = None
            if isinstance(snode, dict) and snode.get("type") == "string":
                fmt = snode.get("format")
                schema = ir.Schema(
                    kind=ir.PRIMITIVE,
                    type="string",
                    format=fmt if isinstance(fmt, str) else "",
                )
            other = body_kind(media, schema)
            if other not in (kind, ir.JSON_BODY):
                out.setdefault(media, other)
        return tuple(out.items())

    def read_webhooks(self, doc: Document) -> None:
        hooks = doc.data.get("webhooks") or {}
        if not isinstance(hooks, dict):
            raise SpecError(doc.name, "/webhooks", "webhooks must be an object")
        for name in sorted(hooks):
            hdoc, hptr, item = self.ws.deref(
                doc, hooks[name], "/webhooks/" + escape(name)
            )
            if not isinstance(item, dict):
                raise SpecError(hdoc.name, hptr, "a webhook must be a path item")
            for method in HTTP_METHODS:
                if method not in item or not isinstance(item[method], dict):
                    continue
                op = item[method]
                optr = f"{hptr}/{method}"
                op_id = (
                    op.get("operationId")
                    if isinstance(op.get("operationId"), str)
                    else f"{name}_{method}"
                )
                hint = pascal(op_id) + "Webhook"
                self.webhooks.append(
                    ir.Operation(
                        operation_id=op_id,
                        py_name=snake(op_id),
                        method=method.upper(),
                        path=name,
                        surface="webhooks",
                        summary=text(op, "summary"),
                        description=text(op, "description"),
                        body=self._request_body(
                            hdoc, op.get("requestBody"), optr + "/requestBody", hint
                        ),
                        responses=self._responses(
                            hdoc, op.get("responses"), optr + "/responses", hint
                        ),
                        source=f"{hdoc.name}#{optr}",
                    )
                )

    def read_components(self) -> None:
        """Every component schema of every document becomes a model or an inline type."""
        for doc in sorted(self.ws.docs.values(), key=lambda d: d.name):
            comps = doc.data.get("components")
            if comps is None:
                continue
            if not isinstance(comps, dict):
                raise SpecError(doc.name, "/components", "components must be an object")
            schemas = comps.get("schemas") or {}
            if not isinstance(schemas, dict):
                raise SpecError(
                    doc.name, "/components/schemas", "schemas must be an object"
                )
            for name in sorted(schemas):
                self.schemas.convert(
                    doc, "/components/schemas/" + escape(name), schemas[name], name
                )


def with_body_rules(
    surfaces: tuple[ir.Surface, ...], models: Mapping[str, ir.Schema]
) -> tuple[ir.Surface, ...]:
    """Operations with what the client does to a body given as a plain mapping noted on the
    body: the one-value fields it fills in when left out (`RequestBody.constants`, and for
    a discriminated union `variant_constants`: the spec admits no other value), and the
    key paths of `format: unix-time` fields, whose datetimes it sends as seconds as a
    model's to_dict does (`unix_time_fields`); and the field sets one of which any body
    must fill (`one_of`)."""
    out = []
    reach = unix_time_models(models)
    for s in surfaces:
        ops = []
        for op in s.operations:
            body = op.body
            if body is not None:
                constants, by_variant = body_constants(body.schema, models)
                paths = unix_time_paths(body.schema, models, reach=reach)
                one_of = _resolved(body.schema, models).required_one_of
                if constants or by_variant or paths or one_of:
                    body = replace(
                        body,
                        constants=constants,
                        variant_constants=by_variant,
                        one_of=one_of,
                        unix_time_fields=paths,
                    )
                    op = replace(op, body=body)
            ops.append(op)
        out.append(replace(s, operations=tuple(ops)))
    return tuple(out)


Constants = tuple[tuple[str, Any], ...]


def body_constants(
    schema: ir.Schema, models: Mapping[str, ir.Schema]
) -> tuple[Constants, ir.VariantConstants | None]:
    """The one-value fields of a body: an object's own; for a union, those every variant
    has, and per value of its discriminator the rest of that variant's."""
    model = _resolved(schema, models)
    if model.kind == ir.OBJECT:
        return _own_constants(model), None
    if model.kind != ir.UNION:
        return (), None
    common = _common_constants(_object_variants(model, models))
    disc = model.discriminator
    rows = []
    for value, cls in disc.mapping if disc else ():
        variant = models.get(cls)
        if variant is None or disc is None:
            continue
        own = _common_constants(_object_variants(variant, models))
        rest = tuple(c for c in own if c[0] != disc.property_name and c not in common)
        if rest:
            rows.append((value, rest))
    if disc is None or not rows:
        return common, None
    return common, ir.VariantConstants(disc.property_name, tuple(rows))


def _resolved(schema: ir.Schema, models: Mapping[str, ir.Schema]) -> ir.Schema:
    return models.get(schema.ref, schema) if schema.ref else schema


def _follow(
    schema: ir.Schema, models: Mapping[str, ir.Schema], seen: frozenset[str]
) -> tuple[ir.Schema, frozenset[str]] | None:
    """`schema` resolved, with the model it links to added to `seen`; None when that model
    was followed already on this walk (a recursive model)."""
    if not schema.ref:
        return schema, seen
    if schema.ref in seen:
        return None
    return _resolved(schema, models), seen | {schema.ref}


def _own_constants(model: ir.Schema) -> Constants:
    return tuple(
        (p.name, p.schema.enum_values[0])
        for p in model.properties
        if p.schema.is_constant
    )


def _object_variants(
    schema: ir.Schema,
    models: Mapping[str, ir.Schema],
    seen: frozenset[str] = frozenset(),
) -> list[ir.Schema]:
    """The objects a schema may be: itself, or a union's variants (nested unions opened)."""
    followed = _follow(schema, models, seen)
    if followed is None:
        return []
    model, seen = followed
    if model.kind == ir.OBJECT:
        return [model]
    if model.kind != ir.UNION:
        return []
    return [o for v in model.variants for o in _object_variants(v, models, seen)]


def _common_constants(objects: list[ir.Schema]) -> Constants:
    """The constants all `objects` share (none when one of them is no object)."""
    if not objects:
        return ()
    first, *others = [_own_constants(o) for o in objects]
    return tuple(c for c in first if all(c in other for other in others))


UnixPath = tuple[Optional[str], ...]  # None: each item of an array


def unix_time_models(models: Mapping[str, ir.Schema]) -> frozenset[str]:
    """The models from which `unix_time_paths` can reach a unix-time field: a walk into
    any other finds nothing, and (every path through a richly linked model graph being
    walked) would take time exponential in its depth."""
    links: dict[str, set[str]] = {}  # model -> the models whose fields link to it
    found: list[str] = []
    for name, model in models.items():
        todo = [model]
        while todo:
            schema = todo.pop()
            if schema.ref:
                links.setdefault(schema.ref, set()).add(name)
            elif schema.kind == ir.PRIMITIVE:  # a leaf (most nodes: no lists made)
                if schema.format == "unix-time":
                    found.append(name)
            else:
                todo.extend(p.schema for p in schema.properties)
                todo.extend(schema.variants)
                if schema.items is not None:
                    todo.append(schema.items)
    reach = set(found)
    while found:
        for linker in links.get(found.pop(), ()):
            if linker not in reach:
                reach.add(linker)
                found.append(linker)
    return frozenset(reach)


def unix_time_paths(
    schema: ir.Schema,
    models: Mapping[str, ir.Schema],
    seen: frozenset[str] = frozenset(),
    reach: frozenset[str] | None = None,
) -> tuple[UnixPath, ...]:
    """Key paths from `schema` to every unix-time field, through object fields, array items
    (None) and a union's variants. A union's path is kept only when no variant has
    something else there (a datetime cannot be sent as seconds for one and as text for
    another). `reach`: `unix_time_models(models)`, when the caller has it already."""
    if reach is None:
        reach = unix_time_models(models)
    if schema.ref and schema.ref not in reach:
        return ()
    followed = _follow(schema, models, seen)
    if followed is None:  # a recursive model: its fields were listed above
        return ()
    model, seen = followed
    out: list[UnixPath] = []
    if model.kind == ir.OBJECT:
        for p in model.properties:
            if _is_unix_time(p.schema):
                out.append((p.name,))
            else:
                out += [
                    (p.name, *rest)
                    for rest in unix_time_paths(p.schema, models, seen, reach)
                ]
    elif model.kind == ir.ARRAY and model.items is not None:
        if _is_unix_time(model.items):
            out.append((None,))
        else:
            out += [
                (None, *rest)
                for rest in unix_time_paths(model.items, models, seen, reach)
            ]
    elif model.kind == ir.UNION:
        found = [
            p for v in model.variants for p in unix_time_paths(v, models, seen, reach)
        ]
        out += [
            path
            for path in dict.fromkeys(found)
            if all(
                _is_unix_time(leaf)
                for v in model.variants
                for leaf in _schemas_at(v, path, models, seen)
            )
        ]
    return tuple(out)


def _is_unix_time(schema: ir.Schema) -> bool:
    return schema.kind == ir.PRIMITIVE and schema.format == "unix-time"


def _schemas_at(
    schema: ir.Schema,
    path: UnixPath,
    models: Mapping[str, ir.Schema],
    seen: frozenset[str],
) -> list[ir.Schema]:
    """What `schema` has at `path` (none where it has no such field)."""
    followed = _follow(schema, models, seen)
    if followed is None:
        return []
    model, seen = followed
    if not path:
        return [model]
    key, rest = path[0], path[1:]
    if model.kind == ir.UNION:
        return [s for v in model.variants for s in _schemas_at(v, path, models, seen)]
    if key is None:
        if model.kind == ir.ARRAY and model.items is not None:
            return _schemas_at(model.items, rest, models, seen)
        return []
    if model.kind == ir.OBJECT:
        return [
            s
            for p in model.properties
            if p.name == key
            for s in _schemas_at(p.schema, rest, models, seen)
        ]
    return []


def with_pagination(
    surfaces: tuple[ir.Surface, ...], models: Mapping[str, ir.Schema]
) -> tuple[tuple[ir.Surface, ...], list[Finding]]:
    """Paginated operations with the response model's attributes for the cursor and the
    items (`Pagination.next_attr`, `items_attr`, `item`); an `x-ciogen-pagination` whose
    fields the response does not have is reported and dropped."""
    out = []
    findings: list[Finding] = []
    for s in surfaces:
        ops = []
        for op in s.operations:
            paging = op.pagination
            ok = op.success
            if paging is not None:
                schema = ok.schema if ok else None
                if schema is not None and schema.ref:
                    schema = models.get(schema.ref, schema)
                props = {p.name: p for p in schema.properties} if schema else {}
                items = props.get(paging.items_field)
                nxt = props.get(paging.next_field)
                item = (
                    items.schema.items
                    if items and items.schema.kind == ir.ARRAY
                    else None
                )
                if nxt is None or items is None or item is None:
                    file, _, where = op.source.partition("#")
                    findings.append(
                        Finding(
                            file,
                            f"{where}/{escape(extensions.PAGINATION)}",
                            "the success response has no "
                            f"{paging.next_field!r} cursor and {paging.items_field!r} "
                            "array: the operation is not paginated",
                        )
                    )
                    op = replace(op, pagination=None)
                else:
                    paging = replace(
                        paging,
                        next_attr=nxt.py_name,
                        items_attr=items.py_name,
                        item=item,
                    )
                    op = replace(op, pagination=paging)
            ops.append(op)
        out.append(replace(s, operations=tuple(ops)))
    return tuple(out), findings
