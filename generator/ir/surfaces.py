"""Surfaces: the operations read from every document, grouped into one client each.

A surface gets its servers (one per region), its credentials (the schemes of the security
requirement that serves most of its operations, all sent on every call; operations asking
for another scheme are reported), its limits (the root
`x-ciogen-limits` of its documents, each operation's own over them), client flags and
method names. Every operation of every input ends up in a surface, or the run stops.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import fields, replace

from ..errors import Finding, SpecError, escape, pointer, shown
from ..spec import extensions
from ..spec.reader import Document
from ..spec.refs import Workspace
from . import model as ir
from .naming import dedupe, pascal, snake
from .operations import (
    PATH_PARAM,
    OperationReader,
    OperationRow,
    limits,
    servers,
    text,
)

CLIENT_RESERVED = ("close", "aclose", "base_url")  # what the base clients define
# the keyword arguments every client's constructor takes besides its credentials
CONSTRUCTOR_RESERVED = (
    "self",
    "region",
    "base_url",
    "timeout",
    "max_retries",
    "transport",
    "default_headers",
)
_LIMIT_FIELDS = tuple(f.name for f in fields(ir.Limits) if f.name != "source")


def merge_limits(base: ir.Limits, own: ir.Limits) -> ir.Limits:
    """`own`'s values over `base`'s, key by key."""
    if own.empty:
        return base
    merged = {
        f: getattr(own, f) if getattr(own, f) is not None else getattr(base, f)
        for f in _LIMIT_FIELDS
    }
    return ir.Limits(**merged, source=own.source)


class UndefinedScheme(SpecError):
    """A security requirement names a scheme the document does not define."""


class UnsupportedScheme(SpecError):
    """An HTTP authentication scheme a client cannot answer with a fixed header (digest,
    negotiate, ...: each needs a challenge from the server first)."""


def auth(ws: Workspace, doc: Document, name: str, several: bool = False) -> ir.Auth:
    """The security scheme `name` of `doc` as the client's credential arguments. When the
    client sends `several` schemes, an API key's argument is named after the parameter or
    header it goes in (`api_key`, `api_secret`), not `api_key` for every one."""
    comps = doc.data.get("components") or {}
    schemes = comps.get("securitySchemes") or {} if isinstance(comps, dict) else {}
    node = schemes.get(name) if isinstance(schemes, dict) else None
    where = "/components/securitySchemes/" + escape(name)
    if node is None:
        raise UndefinedScheme(
            doc.name, where, f"security scheme {name!r} is not defined"
        )
    doc, where, node = ws.deref(doc, node, where)
    if not isinstance(node, dict):
        raise SpecError(doc.name, where, "a security scheme must be an object")
    kind = str(node.get("type", ""))
    scheme = str(node.get("scheme", "")).lower()
    names = extensions.credentials(node)
    desc = text(node, "description")
    if kind == "http" and scheme == "basic":
        creds = names or ["username", "password"]
        return ir.Auth(
            "basic",
            name,
            tuple(ir.Credential(snake(c)) for c in creds),
            description=desc,
        )
    if kind == "http" and scheme not in ("bearer", ""):
        raise UnsupportedScheme(
            doc.name,
            where + "/scheme",
            f"HTTP authentication scheme {node.get('scheme')!r} is not supported "
            "(basic and bearer are)",
        )
    if kind in ("http", "oauth2", "openIdConnect"):
        creds = names or ["token"]
        return ir.Auth(
            "bearer", name, (ir.Credential(snake(creds[0])),), description=desc
        )
    if kind == "apiKey":
        header = str(node.get("name", "Authorization"))
        own = snake(header) if several else ""
        creds = names or [own or "api_key"]
        return ir.Auth(
            "apikey",
            name,
            (ir.Credential(snake(creds[0])),),
            header_name=header,
            location=str(node.get("in", "header")),
            description=desc,
        )
    return ir.Auth("none", name, description=desc)


def method_names(
    ops: list[ir.Operation], rows: dict[str, OperationRow], surface: str
) -> list[tuple[str, str]]:
    """(method name, previous name) per operation, in order.

    A method is its operationId in snake_case; when every operation a document puts on this
    surface starts with the surface's name (`pipelinesIdentify`, ... on `pipelines`), that
    repeated prefix is dropped (`PipelinesClient.identify`) and the long name is kept as the
    previous one (a deprecated alias), unless the short name would clash.
    """
    full = [snake(o.operation_id) for o in ops]
    prefix = surface + "_"
    by_doc: dict[str, list[str]] = {}
    for o, name in zip(ops, full):
        by_doc.setdefault(rows[o.operation_id].doc.name, []).append(name)
    shortened = {
        name
        for names in by_doc.values()
        if all(n.startswith(prefix) and len(n) > len(prefix) for n in names)
        for name in names
    }
    short = [snake(n[len(prefix) :]) if n in shortened else n for n in full]
    counts = Counter(short + full)
    taken = [
        s != f and counts[s] == 1 and s not in CLIENT_RESERVED
        for s, f in zip(short, full)
    ]
    final = dedupe(
        [s if ok else f for s, f, ok in zip(short, full, taken)],
        reserved=CLIENT_RESERVED,
    )
    # the long name stays as an alias only where the short one was taken as it is
    return [
        (name, f if ok and name == s else "")
        for name, s, f, ok in zip(final, short, full, taken)
    ]


def build_surfaces(
    reader: OperationReader,
) -> tuple[tuple[ir.Surface, ...], list[Finding]]:
    """Every surface with its operations, sorted by name; and what was noticed on the way."""
    ws = reader.ws
    by_surface: dict[str, list[OperationRow]] = {}
    for row in reader.rows:
        by_surface.setdefault(row.surface, []).append(row)
    root_surfaces = {
        reader.surface_name(d): d for d in sorted(ws.roots, key=lambda d: d.name)
    }
    for name in root_surfaces:
        by_surface.setdefault(name, [])
    surfaces: list[ir.Surface] = []
    findings: list[Finding] = []
    seen_ids: dict[str, str] = {}
    for name in sorted(by_surface):
        rows = sorted(
            by_surface[name], key=lambda r: (r.op.path, r.op.method, r.doc.name)
        )
        docs = sorted({r.doc.path: r.doc for r in rows}.values(), key=lambda d: d.name)
        if not docs and name in root_surfaces:
            docs = [root_surfaces[name]]
        home = max(docs, key=lambda d: (sum(r.doc is d for r in rows), -docs.index(d)))
        used = (
            rows[0].servers
            if rows
            else servers(home.data.get("servers"), home, "/servers")
        )
        for r in rows:
            if {s.url for s in r.servers} != {s.url for s in used}:
                raise SpecError(
                    r.file,
                    r.pointer,
                    f"servers differ from the rest of surface {name!r}; "
                    f"give the path its own {extensions.SURFACE}",
                )
        credentials, mismatched = _surface_auth(ws, rows, name)
        findings += mismatched
        surface_limits = ir.Limits()
        message_id = ""
        for d in docs:
            surface_limits = merge_limits(surface_limits, limits(d.data, d, ""))
            message_id = message_id or extensions.message_id(d.data)
        flags: dict[str, ir.ClientFlag] = {}
        ops: list[ir.Operation] = []
        for r in rows:
            op = r.op
            if op.operation_id in seen_ids:
                raise SpecError(
                    r.file,
                    r.pointer + "/operationId",
                    f"operationId {op.operation_id!r} is also used at {seen_ids[op.operation_id]}",
                )
            seen_ids[op.operation_id] = op.source
            for p in op.parameters:
                if p.client_flag:
                    flags.setdefault(
                        p.client_flag,
                        ir.ClientFlag(
                            p.client_flag, p.name, p.client_flag_value, p.description
                        ),
                    )
            ops.append(
                replace(
                    op,
                    limits=merge_limits(surface_limits, op.limits),
                    message_id_field=message_id if op.body is not None else "",
                )
            )
        ops.sort(key=lambda o: o.operation_id)
        named = method_names(ops, {r.op.operation_id: r for r in rows}, name)
        ops = [
            replace(o, py_name=n, old_py_name=old) for o, (n, old) in zip(ops, named)
        ]
        info = home.data.get("info") or {}
        surfaces.append(
            ir.Surface(
                name=name,
                class_name=pascal(name) + "Client",
                title=text(info, "title") or name,
                description=text(info, "description"),
                servers=used,
                auth=credentials[0],
                also_auth=credentials[1:],
                limits=surface_limits,
                flags=tuple(sorted(flags.values(), key=lambda f: f.name)),
                operations=tuple(sorted(ops, key=lambda o: o.py_name)),
                sources=tuple(d.name for d in docs),
            )
        )
    return tuple(surfaces), findings


def _surface_auth(
    ws: Workspace, rows: list[OperationRow], name: str
) -> tuple[tuple[ir.Auth, ...], list[Finding]]:
    """The schemes of the requirement that serves most operations, every one sent on every
    call (an API key and its secret); a finding for each operation that asks for a scheme
    the client does not send."""
    asked = Counter(r.requirement for r in rows if r.scheme)
    if not asked:
        return (ir.Auth("none"),), []

    def served(requirement: tuple[str, ...]) -> int:
        """How many operations sending `requirement`'s schemes serves (a key and its
        secret serve an operation that asks for the key alone too)."""
        return sum(n for r, n in asked.items() if set(r) <= set(requirement))

    chosen = min(asked, key=lambda r: (-served(r), len(r), r))
    owner = next(r.doc for r in rows if r.requirement == chosen)
    findings = [
        Finding(
            r.file,
            r.pointer + "/security",
            f"asks for security {_schemes(r.requirement)}, but the {name!r} client "
            f"sends {_schemes(chosen, named=False)} (one requirement per client): "
            f"give the path its own {extensions.SURFACE}",
        )
        for r in rows
        if r.scheme and not set(r.requirement) <= set(chosen)
    ]
    several = len(chosen) > 1
    auths: list[ir.Auth] = []
    for scheme in chosen:
        try:
            auths.append(auth(ws, owner, scheme, several=several))
        except (UndefinedScheme, UnsupportedScheme) as exc:
            # The client is generated without that credential, and says so (an undefined
            # scheme is invalid, but common).
            found = exc.finding
            missing = f"does not send {scheme!r}" if several else "sends no credential"
            message = (
                f"{found.message}: the {name!r} client {missing} (give it one "
                "with default_headers= or a transport)"
            )
            findings.append(Finding(found.file, found.pointer, message))
    sent, clashes = _sendable(auths, owner, name)
    return sent, findings + clashes


def _schemes(names: tuple[str, ...], named: bool = True) -> str:
    """`scheme 'a'` or `schemes 'a', 'b' at once` (without the word when not `named`)."""
    listed = ", ".join(repr(n) for n in names)
    if len(names) == 1:
        return f"scheme {listed}" if named else listed
    return f"schemes {listed} at once" if named else f"{listed} at once"


def _sendable(
    auths: list[ir.Auth], owner: Document, name: str
) -> tuple[tuple[ir.Auth, ...], list[Finding]]:
    """The schemes a client can send together: one that would set the same header, query
    parameter or cookie as an earlier one is left out (with a finding), and credential
    argument names are made unique."""
    kept: list[ir.Auth] = []
    places: dict[tuple[str, str], str] = {}
    findings: list[Finding] = []
    for a in auths:
        place = _place(a)
        if place is None:
            continue
        if place in places:
            where = "/components/securitySchemes/" + escape(a.scheme_name)
            findings.append(
                Finding(
                    owner.name,
                    where,
                    f"sets {place[0]} {place[1]!r} as {places[place]!r} does: the "
                    f"{name!r} client sends {places[place]!r} only",
                )
            )
            continue
        places[place] = a.scheme_name
        kept.append(a)
    if not kept:
        return (auths[0] if auths else ir.Auth("none"),), findings
    names = dedupe(
        [c.name for a in kept for c in a.credentials], reserved=CONSTRUCTOR_RESERVED
    )
    renamed: list[ir.Auth] = []
    for a in kept:
        own, names = names[: len(a.credentials)], names[len(a.credentials) :]
        creds = tuple(replace(c, name=n) for c, n in zip(a.credentials, own))
        renamed.append(replace(a, credentials=creds))
    return tuple(renamed), findings


def _place(a: ir.Auth) -> tuple[str, str] | None:
    """Where a scheme's credential goes on the wire (None: nowhere, a scheme the client
    cannot send). Header names are compared as HTTP compares them."""
    if a.scheme in ("basic", "bearer"):
        return ("header", "authorization")
    if a.scheme == "apikey":
        if a.location == "header":
            return ("header", a.header_name.lower())
        return (a.location, a.header_name)
    return None


def mark_event_checks(
    surfaces: Iterable[ir.Surface], events: tuple[ir.SemanticEvent, ...]
) -> tuple[ir.Surface, ...]:
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
        ops = tuple(
            (
                replace(op, validates_events=True)
                if (op.method, op.path) in endpoints
                else op
            )
            for op in s.operations
        )
        out.append(replace(s, operations=ops))
    return tuple(out)


def same_shape_paths(doc: Document) -> list[Finding]:
    """The paths of `doc` that differ from an earlier one (in sorted order) only in the
    names of their parameters (`/v2/{logName}`, `/v2/{metricName}`). OpenAPI forbids them:
    a server cannot tell their calls apart, and neither can the testing kit's fake API,
    which routes them all to one. Each client method still calls its own path."""
    paths = doc.data.get("paths")
    if not isinstance(paths, dict):
        return []
    first: dict[str, str] = {}
    found: list[Finding] = []
    for path in sorted(p for p in paths if not p.startswith("x-")):
        shape = PATH_PARAM.sub("{}", path)
        if shape not in first:
            first[shape] = path
            continue
        found.append(
            Finding(
                doc.name,
                pointer("paths", path),
                f"path {shown(path)} differs from {shown(first[shape])} only in the "
                "names of its parameters, which OpenAPI forbids: their calls cannot be "
                "told apart (the testing kit's fake API routes them all to one)",
            )
        )
    return found
