"""Loaded documents -> one `ir.Api`: surfaces, operations, models and semantic events.

Every spec file contributes operations to a surface (see docs/conventions.md for the x-
extensions that name surfaces, regions, credentials, limits and flags, and the fallbacks for
specs that carry none). Every operation and every component schema of every input ends up
in the `Api`, or the run stops with a `SpecError`: nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Any, Dict, Iterable, List, Optional, Tuple

from . import ir
from .errors import Finding, SpecError
from .ir import ENUM, OBJECT, UNION
from .loader import Document, Workspace
from .naming import dedupe, pascal, snake
from .schemas import SchemaBuilder

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CLIENT_RESERVED = ("close", "aclose", "base_url")  # what the base clients define
ARG_RESERVED = ("self", "body", "max_retries", "timeout", "extra_headers")
EXT = "x-ciogen-"


def _esc(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _text(node: Any, key: str) -> str:
    value = node.get(key) if isinstance(node, dict) else None
    return value.strip() if isinstance(value, str) else ""


def derive_operation_id(method: str, path: str) -> str:
    """`GET /v1/customers/{id}/events` -> `get_v1_customers_by_id_events`."""
    parts = [method.lower()]
    for seg in path.strip("/").split("/"):
        if seg.startswith("{") and seg.endswith("}"):
            parts.append("by_" + snake(seg[1:-1]))
        elif seg:
            parts.append(snake(seg))
    return "_".join(parts)


def _region_of(server: Dict[str, Any], index: int) -> str:
    explicit = server.get(EXT + "region")
    if isinstance(explicit, str) and explicit:
        return snake(explicit)
    text = f"{server.get('description', '')} {server.get('url', '')}"
    if re.search(r"\bEU\b|[-.]eu[-.]", text):
        return "eu"
    if re.search(r"\bUS\b", text):
        return "us"
    return "default" if index == 0 else f"server{index + 1}"


def _server_url(server: Dict[str, Any]) -> str:
    url = str(server.get("url", "/"))
    variables = server.get("variables") or {}
    for name, var in sorted(variables.items()) if isinstance(variables, dict) else []:
        default = var.get("default", "") if isinstance(var, dict) else ""
        url = url.replace("{" + name + "}", str(default))
    return url.rstrip("/") if url != "/" else url


def _servers(raw: Any, doc: Document, where: str) -> Tuple[ir.Server, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SpecError(doc.name, where, "servers must be a list")
    out: List[ir.Server] = []
    for i, s in enumerate(raw):
        if not isinstance(s, dict) or not isinstance(s.get("url"), str):
            raise SpecError(doc.name, f"{where}/{i}", "a server needs a url")
        out.append(ir.Server(region=_region_of(s, i), url=_server_url(s), description=_text(s, "description")))
    names = dedupe([s.region for s in out])
    return tuple(replace(s, region=n) for s, n in zip(out, names))


def _limits(raw: Any, doc: Document, where: str) -> ir.Limits:
    if raw is None:
        return ir.Limits()
    if not isinstance(raw, dict):
        raise SpecError(doc.name, where, "x-ciogen-limits must be an object")

    def num(key: str, node: Dict[str, Any], ptr: str) -> Any:
        value = node.get(key)
        if value is not None and (not isinstance(value, (int, float)) or value <= 0):
            raise SpecError(doc.name, f"{ptr}/{key}", "must be a positive number")
        return value

    rate = raw.get("rate_limit") or {}
    if not isinstance(rate, dict):
        raise SpecError(doc.name, where + "/rate_limit", "must be an object")
    items_field = raw.get("items_field")
    return ir.Limits(
        max_request_bytes=num("max_request_bytes", raw, where),
        max_item_bytes=num("max_item_bytes", raw, where),
        items_field=items_field if isinstance(items_field, str) else None,
        rate_requests=num("requests", rate, where + "/rate_limit"),
        rate_per_seconds=num("per_seconds", rate, where + "/rate_limit"),
        source=f"{doc.name}#{where}",
    )


def _merge_limits(base: ir.Limits, own: ir.Limits) -> ir.Limits:
    if own.empty:
        return base
    fields = ("max_request_bytes", "max_item_bytes", "items_field", "rate_requests", "rate_per_seconds")
    merged = {f: getattr(own, f) if getattr(own, f) is not None else getattr(base, f) for f in fields}
    return ir.Limits(**merged, source=own.source)


def _auth(ws: Workspace, doc: Document, name: str) -> ir.Auth:
    comps = doc.data.get("components") or {}
    schemes = comps.get("securitySchemes") or {} if isinstance(comps, dict) else {}
    node = schemes.get(name) if isinstance(schemes, dict) else None
    where = f"/components/securitySchemes/{_esc(name)}"
    if node is None:
        raise SpecError(doc.name, where, f"security scheme {name!r} is not defined")
    doc, where, node = ws.deref(doc, node, where)
    if not isinstance(node, dict):
        raise SpecError(doc.name, where, "a security scheme must be an object")
    kind = str(node.get("type", ""))
    scheme = str(node.get("scheme", "")).lower()
    names = node.get(EXT + "credentials")
    desc = _text(node, "description")
    if kind == "http" and scheme == "basic":
        creds = names if isinstance(names, list) and names else ["username", "password"]
        return ir.Auth("basic", name, tuple(ir.Credential(snake(c)) for c in creds), description=desc)
    if kind in ("http", "oauth2", "openIdConnect"):
        creds = names if isinstance(names, list) and names else ["token"]
        return ir.Auth("bearer", name, (ir.Credential(snake(creds[0])),), description=desc)
    if kind == "apiKey":
        creds = names if isinstance(names, list) and names else ["api_key"]
        location = str(node.get("in", "header"))
        return ir.Auth(
            "apikey",
            name,
            (ir.Credential(snake(creds[0])),),
            header_name=str(node.get("name", "Authorization")),
            location=location,
            description=desc,
        )
    return ir.Auth("none", name, description=desc)


class Normalizer:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.schemas = SchemaBuilder(ws)
        self.findings: List[Finding] = []
        self.op_rows: List[Dict[str, Any]] = []  # operations before surfaces are final
        self.server_surfaces: Dict[Tuple[str, ...], str] = {}  # server URLs -> surface name
        self.webhooks: List[ir.Operation] = []

    # ---- surfaces ---------------------------------------------------------------------

    def surface_name(self, doc: Document) -> str:
        explicit = doc.data.get(EXT + "surface")
        if isinstance(explicit, str) and explicit:
            return snake(explicit)
        title = _text(doc.data.get("info") or {}, "title")
        return snake(title or doc.path.stem)

    def server_surface(self, servers: Tuple[ir.Server, ...], home: str) -> str:
        """The surface of operations with servers of their own: named after the host; when
        that name is another surface's (other servers on the same host, say `/v1` and `/v2`),
        after the host and the first segment of the base path, then numbered."""
        urls = tuple(sorted(s.url for s in servers))
        if urls in self.server_surfaces:
            return self.server_surfaces[urls]
        rest = re.sub(r"^[a-z]+://", "", servers[0].url)
        host, _, base_path = rest.partition("/")
        name = base = snake(host.split(".")[0] or "api")
        taken = set(self.server_surfaces.values()) | {home}
        segment = snake(base_path.split("/")[0]) if base_path else ""
        if name in taken and segment:
            name = f"{base}_{segment}"
        n = 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        self.server_surfaces[urls] = name
        return name

    # ---- operations -------------------------------------------------------------------

    def collect_operations(self, doc: Document) -> None:
        paths = doc.data.get("paths") or {}
        if not isinstance(paths, dict):
            raise SpecError(doc.name, "/paths", "paths must be an object")
        root_servers = _servers(doc.data.get("servers"), doc, "/servers")
        for path in sorted(paths):
            item = paths[path]
            pptr = "/paths/" + _esc(path)
            if not isinstance(item, dict):
                raise SpecError(doc.name, pptr, "a path item must be an object")
            if "$ref" in item:
                _, pptr, item = self.ws.resolve(doc, item["$ref"], pptr)
            path_servers = _servers(item.get("servers"), doc, pptr + "/servers")
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item[method]
                optr = f"{pptr}/{method}"
                if not isinstance(op, dict):
                    raise SpecError(doc.name, optr, "an operation must be an object")
                own_servers = _servers(op.get("servers"), doc, optr + "/servers")
                servers = own_servers or path_servers or root_servers
                explicit = op.get(EXT + "surface") or item.get(EXT + "surface")
                if isinstance(explicit, str) and explicit:
                    surface = snake(explicit)
                elif (own_servers or path_servers) and servers != root_servers:
                    surface = self.server_surface(servers, self.surface_name(doc))
                else:
                    surface = self.surface_name(doc)
                self.op_rows.append(
                    self.operation_row(doc, path, method, item, op, optr, pptr, servers, surface)
                )

    def operation_row(
        self,
        doc: Document,
        path: str,
        method: str,
        item: Dict[str, Any],
        op: Dict[str, Any],
        optr: str,
        pptr: str,
        servers: Tuple[ir.Server, ...],
        surface: str,
    ) -> Dict[str, Any]:
        op_id = op.get("operationId")
        if op_id is not None and not isinstance(op_id, str):
            raise SpecError(doc.name, optr + "/operationId", "operationId must be a string")
        op_id = op_id or derive_operation_id(method, path)
        hint = pascal(op_id)
        params = self.parameters(doc, path, item, op, pptr, optr, hint)
        body = self.request_body(doc, op.get("requestBody"), optr + "/requestBody", hint)
        responses = self.responses(doc, op.get("responses"), optr + "/responses", hint)
        security = op.get("security", doc.data.get("security"))
        scheme = ""
        if isinstance(security, list):
            for req in security:
                if isinstance(req, dict) and req:
                    scheme = sorted(req)[0]
                    break
        return {
            "doc": doc,
            "surface": surface,
            "servers": servers,
            "scheme": scheme,
            "op": ir.Operation(
                operation_id=op_id,
                py_name="",
                method=method.upper(),
                path=path,
                surface=surface,
                summary=_text(op, "summary"),
                description=_text(op, "description"),
                tags=tuple(t for t in op.get("tags", []) or [] if isinstance(t, str)),
                deprecated=op.get("deprecated") is True,
                parameters=params,
                body=body,
                responses=responses,
                limits=_limits(op.get(EXT + "limits"), doc, optr + "/" + EXT + "limits"),
                source=f"{doc.name}#{optr}",
            ),
        }

    def parameters(
        self,
        doc: Document,
        path: str,
        item: Dict[str, Any],
        op: Dict[str, Any],
        pptr: str,
        optr: str,
        hint: str,
    ) -> Tuple[ir.Parameter, ...]:
        merged: Dict[Tuple[str, str], Tuple[Document, str, Dict[str, Any]]] = {}
        for base, raw in ((pptr, item.get("parameters")), (optr, op.get("parameters"))):
            if raw is None:
                continue
            if not isinstance(raw, list):
                raise SpecError(doc.name, base + "/parameters", "parameters must be a list")
            for i, p in enumerate(raw):
                pdoc, where, node = self.ws.deref(doc, p, f"{base}/parameters/{i}")
                if not isinstance(node, dict) or not isinstance(node.get("name"), str):
                    raise SpecError(pdoc.name, where, "a parameter needs a name")
                loc = node.get("in")
                if loc not in ("path", "query", "header", "cookie"):
                    raise SpecError(pdoc.name, where + "/in", f"unknown parameter location {loc!r}")
                merged[(loc, node["name"])] = (pdoc, where, node)
        declared = re.findall(r"{([^}]+)}", path)
        for name in declared:
            if ("path", name) not in merged:
                # a template variable with no declaration still has to be passed
                merged[("path", name)] = (doc, optr, {"name": name, "in": "path", "required": True,
                                                      "schema": {"type": "string"}})
        order = {"path": 0, "query": 1, "header": 2, "cookie": 3}

        def sort_key(k: Tuple[str, str]) -> Tuple[int, int, str]:
            loc, name = k
            pos = declared.index(name) if loc == "path" and name in declared else 0
            return (order[loc], pos, name)

        keys = sorted(merged, key=sort_key)
        py_names = dedupe([snake(name) for _, name in keys], reserved=ARG_RESERVED)
        out: List[ir.Parameter] = []
        for key, py_name in zip(keys, py_names):
            pdoc, where, node = merged[key]
            loc, name = key
            snode: Any = node.get("schema")
            sptr = where + "/schema"
            if snode is None and isinstance(node.get("content"), dict) and node["content"]:
                ctype = sorted(node["content"])[0]
                snode = node["content"][ctype].get("schema") if isinstance(node["content"][ctype], dict) else None
                sptr = f"{where}/content/{_esc(ctype)}/schema"
            schema = (
                self.schemas.convert(pdoc, sptr, snode, hint + pascal(name))
                if snode is not None
                else ir.Schema(kind=ir.PRIMITIVE, type="string")
            )
            flag = node.get(EXT + "client-flag")
            flag_value = ""
            if isinstance(flag, str) and schema.kind == ENUM and len(schema.enum_values) == 1:
                flag_value = str(schema.enum_values[0])
            out.append(
                ir.Parameter(
                    name=name,
                    py_name=py_name,
                    location=loc,
                    schema=schema,
                    required=loc == "path" or node.get("required") is True,
                    description=_text(node, "description") or schema.description,
                    client_flag=snake(flag) if isinstance(flag, str) and flag_value else "",
                    client_flag_value=flag_value,
                    style=str(node.get("style", "")),
                    explode=node.get("explode", node.get("style", "form") == "form") is not False,
                )
            )
        return tuple(out)

    @staticmethod
    def pick_content_type(content: Dict[str, Any]) -> str:
        types = sorted(content)
        for preferred in ("application/json",):
            if preferred in content:
                return preferred
        for t in types:
            if t.endswith("+json") or t.startswith("application/json"):
                return t
        for preferred in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if preferred in content:
                return preferred
        return types[0]

    def examples(self, doc: Document, media: Dict[str, Any], where: str) -> Tuple[ir.MediaExample, ...]:
        out: List[ir.MediaExample] = []
        if "example" in media:
            out.append(ir.MediaExample(name="example", value=media["example"]))
        raw = media.get("examples")
        if isinstance(raw, dict):
            for name in sorted(raw):
                edoc, eptr, ex = self.ws.deref(doc, raw[name], f"{where}/examples/{_esc(name)}")
                if isinstance(ex, dict) and "value" in ex:
                    out.append(ir.MediaExample(name=name, value=ex["value"], summary=_text(ex, "summary")))
        return tuple(out)

    def request_body(self, doc: Document, raw: Any, where: str, hint: str) -> Optional[ir.RequestBody]:
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
        mptr = f"{where}/content/{_esc(ctype)}"
        snode = media.get("schema")
        schema = (
            self.schemas.convert(bdoc, mptr + "/schema", snode, hint + "Request")
            if snode is not None
            else ir.Schema(kind=ir.ANY)
        )
        return ir.RequestBody(
            content_type=ctype,
            schema=schema,
            required=node.get("required") is True,
            description=_text(node, "description"),
            examples=self.examples(bdoc, media, mptr),
            other_content_types=tuple(t for t in sorted(content) if t != ctype),
        )

    def responses(self, doc: Document, raw: Any, where: str, hint: str) -> Tuple[ir.Response, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise SpecError(doc.name, where, "responses must be an object")

        def order(code: str) -> Tuple[int, str]:
            return (2, code) if code == "default" else (1, code) if "X" in code.upper() else (0, code)

        out: List[ir.Response] = []
        for code in sorted(raw, key=order):
            rdoc, rptr, node = self.ws.deref(doc, raw[code], f"{where}/{_esc(code)}")
            if not isinstance(node, dict):
                raise SpecError(rdoc.name, rptr, "a response must be an object")
            content = node.get("content") or {}
            schema = None
            ctype = ""
            examples: Tuple[ir.MediaExample, ...] = ()
            if isinstance(content, dict) and content:
                ctype = self.pick_content_type(content)
                media = content[ctype] if isinstance(content[ctype], dict) else {}
                mptr = f"{rptr}/content/{_esc(ctype)}"
                suffix = "Response" if code in ("200", "201", "2XX") else f"Response{pascal(code)}"
                if media.get("schema") is not None:
                    schema = self.schemas.convert(rdoc, mptr + "/schema", media["schema"], hint + suffix)
                examples = self.examples(rdoc, media, mptr)
            out.append(
                ir.Response(
                    status=code.upper() if "X" in code.upper() else code,
                    description=_text(node, "description"),
                    content_type=ctype,
                    schema=schema,
                    examples=examples,
                )
            )
        return tuple(out)

    def collect_webhooks(self, doc: Document) -> None:
        hooks = doc.data.get("webhooks") or {}
        if not isinstance(hooks, dict):
            raise SpecError(doc.name, "/webhooks", "webhooks must be an object")
        for name in sorted(hooks):
            hptr = "/webhooks/" + _esc(name)
            hdoc, hptr, item = self.ws.deref(doc, hooks[name], hptr)
            if not isinstance(item, dict):
                raise SpecError(hdoc.name, hptr, "a webhook must be a path item")
            for method in HTTP_METHODS:
                if method not in item or not isinstance(item[method], dict):
                    continue
                op = item[method]
                optr = f"{hptr}/{method}"
                op_id = op.get("operationId") if isinstance(op.get("operationId"), str) else f"{name}_{method}"
                hint = pascal(op_id) + "Webhook"
                self.webhooks.append(
                    ir.Operation(
                        operation_id=op_id,
                        py_name=snake(op_id),
                        method=method.upper(),
                        path=name,
                        surface="webhooks",
                        summary=_text(op, "summary"),
                        description=_text(op, "description"),
                        body=self.request_body(hdoc, op.get("requestBody"), optr + "/requestBody", hint),
                        responses=self.responses(hdoc, op.get("responses"), optr + "/responses", hint),
                        source=f"{hdoc.name}#{optr}",
                    )
                )

    def convert_components(self) -> None:
        """Every component schema of every document becomes a model or an inline type."""
        for doc in sorted(self.ws.docs.values(), key=lambda d: d.name):
            comps = doc.data.get("components")
            if comps is None:
                continue
            if not isinstance(comps, dict):
                raise SpecError(doc.name, "/components", "components must be an object")
            schemas = comps.get("schemas") or {}
            if not isinstance(schemas, dict):
                raise SpecError(doc.name, "/components/schemas", "schemas must be an object")
            for name in sorted(schemas):
                self.schemas.convert(doc, "/components/schemas/" + _esc(name), schemas[name], name)

    # ---- assembly ---------------------------------------------------------------------

    def build_surfaces(self) -> Tuple[ir.Surface, ...]:
        by_surface: Dict[str, List[Dict[str, Any]]] = {}
        for row in self.op_rows:
            by_surface.setdefault(row["surface"], []).append(row)
        root_surfaces = {self.surface_name(d): d for d in sorted(self.ws.roots, key=lambda d: d.name)}
        for name in root_surfaces:
            by_surface.setdefault(name, [])
        surfaces: List[ir.Surface] = []
        seen_ids: Dict[str, str] = {}
        for name in sorted(by_surface):
            rows = sorted(by_surface[name], key=lambda r: (r["op"].path, r["op"].method, r["doc"].name))
            docs = sorted({r["doc"].path: r["doc"] for r in rows}.values(), key=lambda d: d.name)
            if not docs and name in root_surfaces:
                docs = [root_surfaces[name]]
            home = max(docs, key=lambda d: (sum(r["doc"] is d for r in rows), -docs.index(d)))
            servers = rows[0]["servers"] if rows else _servers(home.data.get("servers"), home, "/servers")
            for r in rows:
                if {s.url for s in r["servers"]} != {s.url for s in servers}:
                    raise SpecError(
                        r["doc"].name,
                        r["op"].source.split("#", 1)[1],
                        f"servers differ from the rest of surface {name!r}; "
                        "give the path its own x-ciogen-surface",
                    )
            schemes = Counter(r["scheme"] for r in rows if r["scheme"])
            auth = ir.Auth("none")
            if schemes:
                scheme = sorted(schemes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
                owner = next(r["doc"] for r in rows if r["scheme"] == scheme)
                auth = _auth(self.ws, owner, scheme)
                for r in rows:  # a client holds one credential: say so, never silently
                    if r["scheme"] and r["scheme"] != scheme:
                        self.findings.append(Finding(
                            r["doc"].name,
                            r["op"].source.split("#", 1)[1] + "/security",
                            f"asks for security scheme {r['scheme']!r}, but the {name!r} client "
                            f"sends {scheme!r} (one credential per client): give the path its "
                            "own x-ciogen-surface",
                        ))
            limits = ir.Limits()
            message_id = ""
            for d in docs:
                lim = _limits(d.data.get(EXT + "limits"), d, "/" + EXT + "limits")
                limits = limits if lim.empty else _merge_limits(limits, lim)
                mid = d.data.get(EXT + "message-id")
                message_id = message_id or (mid if isinstance(mid, str) else "")
            flags: Dict[str, ir.ClientFlag] = {}
            ops: List[ir.Operation] = []
            for r in rows:
                op: ir.Operation = r["op"]
                if op.operation_id in seen_ids:
                    raise SpecError(
                        r["doc"].name,
                        op.source.split("#", 1)[1] + "/operationId",
                        f"operationId {op.operation_id!r} is also used at {seen_ids[op.operation_id]}",
                    )
                seen_ids[op.operation_id] = op.source
                for p in op.parameters:
                    if p.client_flag:
                        flags.setdefault(
                            p.client_flag,
                            ir.ClientFlag(p.client_flag, p.name, p.client_flag_value, p.description),
                        )
                ops.append(
                    replace(
                        op,
                        limits=_merge_limits(limits, op.limits),
                        message_id_field=message_id if op.body is not None else "",
                    )
                )
            ops.sort(key=lambda o: o.operation_id)
            method_names = dedupe([snake(o.operation_id) for o in ops], reserved=CLIENT_RESERVED)
            ops = [replace(o, py_name=n) for o, n in zip(ops, method_names)]
            info = home.data.get("info") or {}
            surfaces.append(
                ir.Surface(
                    name=name,
                    class_name=pascal(name) + "Client",
                    title=_text(info, "title") or name,
                    description=_text(info, "description"),
                    servers=servers,
                    auth=auth,
                    limits=limits,
                    flags=tuple(sorted(flags.values(), key=lambda f: f.name)),
                    operations=tuple(sorted(ops, key=lambda o: o.py_name)),
                    sources=tuple(d.name for d in docs),
                )
            )
        return tuple(surfaces)


def event_check_ops(surfaces: Iterable[ir.Surface], events: Tuple[ir.SemanticEvent, ...]) -> Tuple[ir.Surface, ...]:
    """Mark operations whose body is a track call, so the client checks semantic events."""
    if not events:
        return tuple(surfaces)
    event_classes = {e.class_name for e in events}
    out = []
    for s in surfaces:
        endpoints = set()
        for op in s.operations:
            schema = op.body.schema if op.body else None
            if schema is None:
                continue
            names = {schema.class_name} | {v.class_name for v in schema.variants}
            if names & event_classes:
                endpoints.add((op.method, op.path))
        ops = tuple(replace(op, validates_events=True) if (op.method, op.path) in endpoints else op
                    for op in s.operations)
        out.append(replace(s, operations=ops))
    return tuple(out)


def all_models(builder: SchemaBuilder) -> Tuple[ir.Schema, ...]:
    return tuple(
        _with_variant_shapes(builder.models[n], builder.models)
        for n in sorted(builder.models)
        if builder.models[n].kind in (OBJECT, ENUM, UNION)
    )


def _with_variant_shapes(model: ir.Schema, models: Dict[str, ir.Schema]) -> ir.Schema:
    """A union whose object variants are links to models, with each link's `required` filled
    in from its model: a union without a discriminator is decoded by those keys. (A link
    made while its model was still being built could not know them.)"""
    if model.kind != UNION or not model.variants:
        return model
    variants = tuple(
        replace(v, required=models[v.ref].required)
        if v.ref and v.kind == OBJECT and v.ref in models and not v.required
        else v
        for v in model.variants
    )
    return model if variants == model.variants else replace(model, variants=variants)
