"""JSON Schema (OpenAPI flavour) -> IR `Schema`, with deterministic model naming.

`SchemaBuilder.convert` turns one schema node into an IR `Schema`. Schemas that become
classes (objects with properties, enums of two or more values, unions) are registered as
models under a PascalCase name:
- a component schema (`#/components/schemas/Name`) is named `Name`;
- an inline schema is named from where it stands: `<Parent><Property>`, `<Operation>Request`,
  `<Operation>Response`, `<Parent>Item` for array items, `<Parent>Variant<N>` for union variants.
Collision rule: component names are taken first, in (file, name) order; when two files define
the same component name, both get their file's surface/stem as a prefix (`AppError`,
`TrackError`); any remaining clash (and inline names) get a numeric suffix in traversal order.
A model is identified by (file, JSON pointer), so a schema referenced from several files is one
model, and recursive references end in a named link rather than a loop.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import Finding, SpecError, escape, json_kind, shown
from ..spec import extensions
from ..spec.reader import Document
from ..spec.refs import Workspace, unescape_pointer
from ..spec.regex import RISKY, risky
from .examples import TOO_DEEP, too_deep
from .model import (
    ANY,
    ARRAY,
    ENUM,
    MAP,
    OBJECT,
    PRIMITIVE,
    UNION,
    Bounds,
    Discriminator,
    Property,
    Schema,
)
from .naming import bounded, dedupe, pascal, snake

SELF_VARIANT = "a variant that is the union itself adds no value to it: left out"
PRIMITIVE_TYPES = ("string", "integer", "number", "boolean", "null")
ALL_TYPES = PRIMITIVE_TYPES + ("object", "array")
# Names a model class must not take: what models.py and the client modules import or define
# at module level (a model named `Transport` or `Call` would shadow the client's own).
RESERVED_MODEL_NAMES = frozenset(
    {
        "Any",
        "Dict",
        "List",
        "Mapping",
        "Optional",
        "Union",
        "Literal",
        "Enum",
        "Unset",
        "UNSET",
        "Type",
        "TypeVar",
        "Tuple",
        "Callable",
        "field",
        "dataclass",
        "datetime",
        "date",
        "cast",
        "APIResponse",
        "AsyncBaseClient",
        "BaseClient",
        "Call",
        "Limits",
        "AsyncTransport",
        "Transport",
        "Timeout",
        "REGIONS",
        "LIMITS",
        "DEFAULT_REGION",
        "DEFAULT_TIMEOUT",
        "DEFAULT_MAX_RETRIES",
        "OPERATIONS",
        "OperationInfo",
    }
)
# Field names that are the model's own API: a property with one of them gets a `_2` suffix.
RESERVED_FIELD_NAMES = ("additional_properties", "to_dict", "from_dict")
# Module names a class body evaluates (`field(default_factory=dict)`, `datetime.date` in an
# annotation): a field of that name would shadow them, so it gets a trailing underscore.
SHADOWING_FIELD_NAMES = frozenset({"field", "datetime"})


# A field is declared as `    name: Type` in its class: with a name of 75 characters or
# more, the line is too long and black and ruff's formatter (which the generator uses) lay
# it out differently (black parenthesizes the annotation, ruff cannot), so the package
# would fail `black --check`. Longer names keep their start and a digest of the whole.
FIELD_NAME_LIMIT = 64


def field_names(wire_names: list[str]) -> list[str]:
    """Python attribute names for a model's properties, in order (see naming.dedupe)."""
    names = [bounded(snake(w), FIELD_NAME_LIMIT) for w in wire_names]
    return dedupe(
        [n + "_" if n in SHADOWING_FIELD_NAMES else n for n in names],
        reserved=RESERVED_FIELD_NAMES,
    )


Key = tuple[Path, str]


def enum_member_name(value: Any) -> str:
    """`"ios"` -> `IOS`, `"in-app"` -> `IN_APP`, `3` -> `VALUE_3`."""
    if isinstance(value, int):
        return f"VALUE_{value}".replace("-", "MINUS_")
    name = snake(str(value)).rstrip("_").upper()
    return name if name and not name[0].isdigit() else f"VALUE_{name}"


def _explicit_surfaces(docs: list[Document]) -> set[str]:
    """Surface names set with `x-ciogen-surface` on path items and operations."""
    out: set[str] = set()
    for doc in docs:
        paths = doc.data.get("paths")
        for item in paths.values() if isinstance(paths, dict) else ():
            if not isinstance(item, dict):
                continue
            for node in [item, *(v for v in item.values() if isinstance(v, dict))]:
                name = extensions.surface(node)
                if name:
                    out.add(snake(name))
    return out


def _may_be_class(node: Any) -> bool:
    """Could this component schema become a class (an object with properties, an enum, a
    union)? False for arrays, maps and primitives, which are used inline instead."""
    if not isinstance(node, dict):
        return False
    if any(
        k in node for k in ("allOf", "oneOf", "anyOf", "enum", "const", "properties")
    ):
        return True
    types = node.get("type")
    inline = ("array", "string", "integer", "number", "boolean")
    if any(t in inline for t in (types if isinstance(types, list) else [types])):
        return False
    return node.get("additionalProperties") in (None, False)  # else a map


# Arrays, maps and unions nested with no model class between them are written as one
# nested type (`list[dict[str, list[...]]]`) and one nested decoding expression; CPython's
# parser stops at 200 nested brackets, and no real API nests a tenth of this.
MAX_INLINE_NESTING = 50


# Keys that say something about a value without constraining it: an allOf part with only
# these (and extensions) adds nothing to the type of its siblings.
_ANNOTATIONS = frozenset(
    {
        "description",
        "title",
        "example",
        "examples",
        "deprecated",
        "externalDocs",
        "$comment",
    }
)


def _annotation_only(part: Any) -> bool:
    return isinstance(part, dict) and all(
        k in _ANNOTATIONS or k.startswith("x-") for k in part
    )


def _inline_nesting(schema: Schema | None) -> int:
    """How many arrays, maps and unions `schema` nests without a model class between."""
    deepest = 0
    todo = [(schema, 0)]
    while todo:
        s, depth = todo.pop()
        if s is None or s.class_name or s.kind not in (ARRAY, MAP, UNION):
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_INLINE_NESTING:
            break
        todo.extend((v, depth + 1) for v in (s.items, *s.variants))
    return deepest


def _check_nesting(doc: Document, ptr: str, item: Schema | None) -> None:
    if _inline_nesting(item) >= MAX_INLINE_NESTING:
        raise SpecError(
            doc.name,
            ptr,
            f"arrays, maps and unions nest more than {MAX_INLINE_NESTING} levels deep "
            "here with no named object schema between them (the generated type would "
            "not parse)",
        )


class SchemaBuilder:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.models: dict[str, Schema] = {}  # class_name -> finished model
        self.names: dict[Key, str] = {}  # (file, pointer) -> class_name of a model
        self.in_progress: set[Key] = set()
        # unfinished models an allOf is re-reading (see _unfinished_part)
        self.expanding: set[Key] = set()
        # models something links to: an allOf part that is one stays a class of its own
        self.linked: set[str] = set()
        self.taken: set[str] = set(RESERVED_MODEL_NAMES)
        self.inline_cache: dict[Key, Schema] = {}
        self.component_keys: dict[Key, str] = {}
        self.findings: list[Finding] = []  # what was noticed and worked around
        # schema examples found too deep: a schema may be converted more than once
        self._too_deep: set[tuple[str, str]] = set()
        # patterns found risky (spec/regex.py), for the same reason
        self._risky: set[tuple[str, str]] = set()
        # class name -> the component whose conversion made it (itself for a component or
        # an operation's inline schema): the models module it is written to
        self.owner: dict[str, str] = {}
        self._owners: list[str] = []
        self._root_paths = {d.path for d in ws.roots}

    # ---- naming -------------------------------------------------------------------------

    def reserve_components(
        self, docs: list[Document], prefix_of: dict[Path, str]
    ) -> None:
        """Give every component schema its class name up front (collision rule above)."""
        for surface in set(prefix_of.values()) | _explicit_surfaces(docs):
            # the client classes live next to the models their methods import
            self.taken.update(
                {pascal(surface) + "Client", "Async" + pascal(surface) + "Client"}
            )
        rows: list[tuple[str, str, Document]] = []
        for doc in sorted(docs, key=lambda d: d.name):
            comps = doc.data.get("components")
            schemas = comps.get("schemas") if isinstance(comps, dict) else None
            if not isinstance(schemas, dict):
                continue
            for name in sorted(schemas):
                # a boolean schema (3.1) is no class, and a value of another type no
                # schema (convert() says so where it is used)
                if isinstance(schemas[name], dict):
                    rows.append((pascal(name), name, doc))
        counts = Counter(base for base, _, _ in rows)
        wanted: list[str] = []
        for base_name, _, doc in rows:
            clash = (
                counts[base_name] > 1
                and len({d.path for b, _, d in rows if b == base_name}) > 1
            )
            wanted.append(
                pascal(prefix_of.get(doc.path, doc.path.stem)) + base_name
                if clash
                else base_name
            )
        final = dedupe(wanted, reserved=self.taken, sep="")
        for (_, name, doc), cls in zip(rows, final):
            ptr = "/components/schemas/" + escape(name)
            self.component_keys[(doc.path, ptr)] = cls
            self.taken.add(cls)

    def _new_name(self, hint: str) -> str:
        # dedupe()'s rule for one name, without copying the (large) set of taken names
        base = name = _bounded_class(pascal(hint))
        n = 1
        while name in self.taken:
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        return name

    # ---- conversion ---------------------------------------------------------------------

    def convert(self, doc: Document, ptr: str, node: Any, hint: str) -> Schema:
        """Convert the schema at (doc, ptr); `hint` names it if it becomes an inline model."""
        if isinstance(node, bool):  # 3.1 boolean schemas
            return Schema(kind=ANY, source=f"{doc.name}#{ptr}")
        if not isinstance(node, dict):
            raise SpecError(
                doc.name, ptr, f"a schema must be an object, got {json_kind(node)}"
            )
        if "$ref" in node:
            return self._convert_ref(doc, ptr, node, hint)
        key = (doc.path, ptr)
        if key in self.component_keys:
            return self._model_link(doc, ptr, node, key)
        if key in self.inline_cache:  # a component that is no class, already converted
            return self.inline_cache[key]
        return self._convert_inline(doc, ptr, node, hint)

    def _convert_ref(
        self, doc: Document, ptr: str, node: dict[str, Any], hint: str
    ) -> Schema:
        tdoc, tptr, tnode = self.ws.resolve(doc, node["$ref"], ptr + "/$ref")
        key = (tdoc.path, tptr)
        if key in self.component_keys or key in self.names:
            out = self._model_link(tdoc, tptr, tnode, key)
        elif key in self.in_progress:
            if isinstance(tnode, dict) and "$ref" in tnode:
                # aliases alone that lead back here (across files) describe no schema:
                # SpecError, as for aliases within one document
                self.ws.deref(tdoc, tnode, tptr)
            # a recursive reference to a schema that is not a model: nothing better than Any
            out = Schema(kind=ANY, source=f"{tdoc.name}#{tptr}")
        else:
            if key not in self.inline_cache:
                self.in_progress.add(key)
                try:
                    named = self._referenced_name(tdoc, tptr) or hint
                    self.inline_cache[key] = self.convert(tdoc, tptr, tnode, named)
                finally:
                    self.in_progress.discard(key)
            out = self.inline_cache[key]
        # 3.1 allows siblings next to $ref; description and nullable are the ones that matter.
        if node.get("nullable") is True and not out.nullable:
            out = replace(out, nullable=True)
        if isinstance(node.get("description"), str) and node["description"]:
            out = replace(out, description=node["description"])
        return out

    def _referenced_name(self, doc: Document, ptr: str) -> str:
        """The name a schema in a file that is no --spec root goes by: the file's for a
        file that is one schema, its key for one under a key of its own (`#/Owner`,
        `#/components/schemas/Owner`, `#/$defs/Owner`); "" (named from where it is used)
        for anything deeper, or in a root, whose components are reserved up front."""
        if doc.path in self._root_paths:
            return ""
        parts = unescape_pointer(ptr)
        if not parts:
            return doc.path.stem
        under_key = len(parts) == 1 or (
            len(parts) == 2 and parts[0] in ("$defs", "definitions")
        )
        if under_key or parts[:2] == ["components", "schemas"] and len(parts) == 3:
            return parts[-1]
        return ""

    def _model_link(self, doc: Document, ptr: str, node: Any, key: Key) -> Schema:
        """A reference to a (possibly still unfinished) component: build it once, then link."""
        name = self.component_keys.get(key) or self.names[key]
        self.linked.add(name)
        if name not in self.models and key not in self.in_progress:
            self.in_progress.add(key)
            self._owners.append(name)
            try:
                if isinstance(node, dict) and "$ref" in node:
                    # an alias of another schema (`Foo: {$ref: Bar}`): what it leads to
                    built = self._convert_ref(doc, ptr, node, name)
                else:
                    built = self._convert_inline(doc, ptr, node, name, class_name=name)
            finally:
                self.in_progress.discard(key)
                self._owners.pop()
            if built.class_name == name:
                self.models.setdefault(name, built)
                self.names[key] = name
            else:
                # not a class (a map, a primitive alias, ...): use it inline everywhere
                self.component_keys.pop(key, None)
                self.taken.discard(name)
                self.inline_cache[key] = built
                return built
        if key in self.inline_cache:
            return self.inline_cache[key]
        if name in self.models:
            model = self.models[name]
            return Schema(
                kind=model.kind,
                class_name=name,
                ref=name,
                nullable=model.nullable,
                description=model.description,
                enum_type=model.enum_type,
                enum_values=model.enum_values,
                source=model.source,
            )
        # still being built (recursion): the kind is known from the node itself
        if isinstance(node, dict) and "$ref" in node:
            raise SpecError(
                doc.name, ptr + "/$ref", "circular $ref: aliases lead back to this one"
            )
        if not _may_be_class(node):
            # an array or map that (through its items) contains itself: no class of that
            # name will exist, so the inner occurrence is typed Any, as other recursive
            # non-model schemas are
            return Schema(kind=ANY, source=f"{doc.name}#{ptr}")
        return Schema(
            kind=self._peek_kind(doc, ptr, node),
            class_name=name,
            ref=name,
            nullable=_states_null(node),
        )

    def _peek_kind(self, doc: Document, ptr: str, node: Any) -> str:
        if isinstance(node, dict):
            if "oneOf" in node or "anyOf" in node:
                return UNION
            if "enum" in node:
                return ENUM
        return OBJECT

    # ---- inline conversion --------------------------------------------------------------

    def _convert_inline(
        self,
        doc: Document,
        ptr: str,
        node: dict[str, Any],
        hint: str,
        class_name: str = "",
    ) -> Schema:
        where = f"{doc.name}#{ptr}"
        desc = (
            node.get("description") if isinstance(node.get("description"), str) else ""
        )
        nullable = node.get("nullable") is True
        types = self._types(doc, ptr, node)
        if "null" in types:
            nullable = True
            types = [t for t in types if t != "null"] or ["null"]
        common: dict[str, Any] = {
            "description": desc or "",
            "nullable": nullable,
            "source": where,
        }
        if "default" in node and not too_deep(node["default"]):
            # only a primitive default is ever used; the IR is pickled (the render
            # memo), which a value nested thousands of levels deep would not survive
            common.update(default=node["default"], has_default=True)
        if "example" in node:
            if not too_deep(node["example"]):
                common.update(example=node["example"], has_example=True)
            elif (doc.name, ptr) not in self._too_deep:
                self._too_deep.add((doc.name, ptr))
                self.findings.append(Finding(doc.name, f"{ptr}/example", TOO_DEEP))
        common["extensions"] = tuple(sorted(extensions.of_schema(node).items()))

        if "allOf" in node:
            return self._all_of(doc, ptr, node, hint, class_name, common)
        for key in ("oneOf", "anyOf"):
            if key in node and not self._only_required(node[key]):
                return self._union(doc, ptr, node, key, hint, class_name, common)
        if "const" in node or "enum" in node:
            return self._enum(doc, ptr, node, hint, class_name, common, types)
        if len(types) > 1:
            variants = tuple(
                Schema(kind=PRIMITIVE, type=t) for t in types if t in PRIMITIVE_TYPES
            )
            extra = [t for t in types if t not in PRIMITIVE_TYPES]
            variants += tuple(
                self._convert_inline(
                    doc, ptr, {**node, "type": t}, f"{hint}{t.title()}"
                )
                for t in extra
            )
            return Schema(kind=UNION, variants=variants, **common)
        kind = types[0] if types else self._infer_type(node)
        if _typeless_admits_null(node):
            common["nullable"] = True
        if kind == "object":
            return self._object(doc, ptr, node, hint, class_name, common)
        if kind == "array":
            items = node.get("items", {})
            if isinstance(
                items, list
            ):  # tuple validation (3.0 forbids, some specs do it)
                items = {}
            item = self.convert(doc, ptr + "/items", items, hint + "Item")
            _check_nesting(doc, ptr, item)
            return Schema(kind=ARRAY, items=item, **common)
        if kind in PRIMITIVE_TYPES:
            fmt = str(node["format"]) if isinstance(node.get("format"), str) else ""
            if kind == "string" and node.get("contentEncoding") == "base64":
                fmt = fmt or "byte"
            common["bounds"] = _bounds(node, kind)
            pattern = common["bounds"].pattern if common["bounds"] else None
            if pattern and risky(pattern) and (doc.name, ptr) not in self._risky:
                self._risky.add((doc.name, ptr))
                self.findings.append(Finding(doc.name, f"{ptr}/pattern", RISKY))
            return Schema(kind=PRIMITIVE, type=kind, format=fmt, **common)
        return Schema(kind=ANY, **common)

    def _types(self, doc: Document, ptr: str, node: dict[str, Any]) -> list[str]:
        raw = node.get("type")
        if raw is None:
            return []
        values = raw if isinstance(raw, list) else [raw]
        for t in values:
            if not isinstance(t, str) or t not in ALL_TYPES:
                raise SpecError(doc.name, ptr + "/type", f"unknown type {shown(t)}")
        return list(dict.fromkeys(values))

    @staticmethod
    def _infer_type(node: dict[str, Any]) -> str:
        """The kind a schema with no `type` is read as, from its keywords. String keywords
        (`format`, `pattern`, `minLength`) make no string: such a schema stays Any, which
        admits every value, null among them (see `_typeless_admits_null`)."""
        if "properties" in node or "additionalProperties" in node:
            return "object"
        if "items" in node:
            return "array"
        return "any"

    @staticmethod
    def _only_required(variants: Any) -> bool:
        """`anyOf: [{required: [a]}, {required: [b]}]` is a constraint, not a union (an
        extension on a branch, `x-...`, says nothing about values)."""
        return (
            isinstance(variants, list)
            and bool(variants)
            and all(
                isinstance(v, dict)
                and {k for k in v if not k.startswith("x-")}
                <= {"required", "description"}
                for v in variants
            )
        )

    def _required_one_of(self, node: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
        out: list[tuple[str, ...]] = []
        for key in ("anyOf", "oneOf"):
            if key in node and self._only_required(node[key]):
                out.extend(tuple(v.get("required", [])) for v in node[key])
        return tuple(out)

    def _object(
        self,
        doc: Document,
        ptr: str,
        node: dict[str, Any],
        hint: str,
        class_name: str,
        common: dict[str, Any],
    ) -> Schema:
        props = node.get("properties", {}) or {}
        if not isinstance(props, dict):
            raise SpecError(
                doc.name, ptr + "/properties", "properties must be an object"
            )
        required = node.get("required", []) or []
        if not isinstance(required, list) or not all(
            isinstance(r, str) for r in required
        ):
            raise SpecError(
                doc.name, ptr + "/required", "required must be a list of names"
            )
        addl = node.get("additionalProperties", True)
        additional: Schema | None
        if addl is False:
            additional = None
        elif addl is True or addl == {}:
            additional = Schema(kind=ANY)
        elif isinstance(addl, dict):
            additional = self.convert(
                doc, ptr + "/additionalProperties", addl, hint + "Value"
            )
        else:
            raise SpecError(
                doc.name, ptr + "/additionalProperties", "must be a boolean or schema"
            )
        if not props:
            _check_nesting(doc, ptr, additional)
            return Schema(
                kind=MAP,
                items=additional or Schema(kind=ANY),
                bounds=_bounds(node, "object"),
                required_unlisted=tuple(dict.fromkeys(required)),
                **common,
            )
        name = class_name or self._new_name(hint)
        wires = list(props)
        py = field_names(wires)
        properties: list[Property] = []
        for wire, py_name in zip(wires, py):
            pnode = props[wire]
            pptr = ptr + "/properties/" + escape(wire)
            schema = self.convert(doc, pptr, pnode, name + pascal(wire))
            pdict = pnode if isinstance(pnode, dict) else {}
            read_only, write_only = self._one_way(doc, pptr, pdict)
            one_way = read_only or write_only
            own_default = pdict.get("default")
            own = "default" in pdict and not too_deep(own_default)
            properties.append(
                Property(
                    name=wire,
                    py_name=py_name,
                    schema=schema,
                    # one class serves requests and responses, and `required` on a
                    # read-only (write-only) property binds responses (requests) alone
                    required=wire in required and not one_way,
                    description=schema.description,
                    default=own_default if own else schema.default,
                    has_default=own or schema.has_default,
                    read_only=read_only,
                    write_only=write_only,
                )
            )
        model = Schema(
            kind=OBJECT,
            class_name=name,
            properties=tuple(properties),
            required=tuple(r for r in required if r in props),
            required_unlisted=tuple(
                r for r in dict.fromkeys(required) if r not in props
            ),
            required_one_of=self._required_one_of(node),
            additional=additional,
            additional_allowed=additional is not None,
            **common,
        )
        return self._register(name, model, doc, ptr)

    def _one_way(
        self, doc: Document, ptr: str, node: dict[str, Any]
    ) -> tuple[bool, bool]:
        """Is a property schema `readOnly`, `writeOnly`: by its own keyword, or by the
        schema its `$ref` leads to (`id: {$ref: IdReadOnly}`, the keyword being one of
        that schema's)? A $ref that does not resolve says nothing (it is reported where
        the schema is converted)."""
        read_only = write_only = False
        for _ in range(16):  # a chain of aliases; a cycle is reported elsewhere
            read_only = read_only or node.get("readOnly") is True
            write_only = write_only or node.get("writeOnly") is True
            if "$ref" not in node:
                break
            try:
                doc, ptr, target = self.ws.resolve(doc, node["$ref"], ptr + "/$ref")
            except SpecError:
                break
            if not isinstance(target, dict):
                break
            node = target
        return read_only, write_only

    def _register(self, name: str, model: Schema, doc: Document, ptr: str) -> Schema:
        key = (doc.path, ptr)
        self.owner.setdefault(name, self._owners[-1] if self._owners else name)
        self.models.setdefault(name, model)
        self.names.setdefault(key, name)
        return model

    def _enum(
        self,
        doc: Document,
        ptr: str,
        node: dict[str, Any],
        hint: str,
        class_name: str,
        common: dict[str, Any],
        types: list[str],
    ) -> Schema:
        values = [node["const"]] if "const" in node else node.get("enum")
        if not isinstance(values, list) or not values:
            raise SpecError(doc.name, ptr + "/enum", "enum must be a non-empty list")
        if None in values:
            common["nullable"] = True
            values = [v for v in values if v is not None]
        if all(type(v) is str for v in values):  # the common case: no JSON round trip
            values = list(dict.fromkeys(values))
        else:  # `1`, `1.0` and `true` are equal keys in Python, not in JSON
            values = list(dict.fromkeys(json.dumps(v, sort_keys=True) for v in values))
            values = [json.loads(v) for v in values]
        if not values:  # `const: null`, `enum: [null]`
            return Schema(kind=PRIMITIVE, type="null", **common)
        if all(isinstance(v, bool) for v in values):
            return Schema(kind=PRIMITIVE, type="boolean", **common)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            etype = "integer"
        elif all(isinstance(v, str) for v in values):
            etype = "string"
        else:
            # mixed or structured values: keep the type, check values at run time
            base = types[0] if types else "any"
            kind = PRIMITIVE if base in PRIMITIVE_TYPES else ANY
            return Schema(kind=kind, type=base if kind == PRIMITIVE else "", **common)
        if len(values) == 1:  # a const: rendered as Literal, not a class
            return Schema(
                kind=ENUM, enum_type=etype, enum_values=tuple(values), **common
            )
        name = class_name or self._new_name(hint)
        members = dedupe([enum_member_name(v) for v in values])
        model = Schema(
            kind=ENUM,
            class_name=name,
            enum_type=etype,
            enum_values=tuple(values),
            enum_names=tuple(members),
            **common,
        )
        return self._register(name, model, doc, ptr)

    def _union(
        self,
        doc: Document,
        ptr: str,
        node: dict[str, Any],
        key: str,
        hint: str,
        class_name: str,
        common: dict[str, Any],
    ) -> Schema:
        raw = node[key]
        if not isinstance(raw, list) or not raw:
            raise SpecError(doc.name, f"{ptr}/{key}", f"{key} must be a non-empty list")
        variants: list[Schema] = []
        for i, v in enumerate(raw):
            vptr = f"{ptr}/{key}/{i}"
            if isinstance(v, dict) and v.get("type") == "null" and len(v) <= 2:
                common["nullable"] = True
                continue
            variants.append(self.convert(doc, vptr, v, f"{hint}Variant{i + 1}"))
            if variants[-1].nullable:
                # null is a value of that variant, so of the union: decoders test the
                # variants by their JSON type, which null is none of (Mist's metrics)
                common["nullable"] = True
            if class_name and variants[-1].ref == class_name:
                # `Thing: {oneOf: [$ref Thing, ...]}` allows what the others allow (and
                # null, when the link says so); its decoder called itself for ever, and
                # its examples recursed
                variants.pop()
                self.findings.append(Finding(doc.name, vptr, SELF_VARIANT))
        if not variants:  # `oneOf: [{type: "null"}]`: no value but null
            return Schema(kind=PRIMITIVE, type="null", **common)
        if len(variants) == 1 and "discriminator" not in node:
            only = variants[0]
            return replace(
                only,
                nullable=only.nullable or common["nullable"],
                description=common["description"] or only.description,
            )
        disc = self._discriminator(doc, ptr, node, variants)
        name = class_name or self._new_name(hint)
        model = Schema(
            kind=UNION,
            class_name=name,
            variants=tuple(variants),
            discriminator=disc,
            **common,
        )
        return self._register(name, model, doc, ptr)

    def _discriminator(
        self, doc: Document, ptr: str, node: dict[str, Any], variants: list[Schema]
    ) -> Discriminator | None:
        d = node.get("discriminator")
        if d is None:
            return None
        if not isinstance(d, dict) or not isinstance(d.get("propertyName"), str):
            raise SpecError(
                doc.name, ptr + "/discriminator", "discriminator needs a propertyName"
            )
        prop = d["propertyName"]
        pairs: dict[str, str] = {}
        mapping = d.get("mapping") or {}
        if not isinstance(mapping, dict):
            raise SpecError(
                doc.name, ptr + "/discriminator/mapping", "mapping must be an object"
            )
        for value, target in mapping.items():
            if not isinstance(target, str):
                raise SpecError(
                    doc.name, ptr + "/discriminator/mapping", "targets are strings"
                )
            ref = (
                target
                if ("#" in target or "/" in target or "." in target)
                else ("#/components/schemas/" + target)
            )
            where = f"{ptr}/discriminator/mapping/{escape(str(value))}"
            try:
                tdoc, tptr, tnode = self.ws.resolve(doc, ref, where)
            except SpecError as exc:
                # A bundler that left a mapping pointing into the files it bundled: the
                # variants are all there, and a mapping only says which one a value is.
                self.findings.append(
                    Finding(
                        doc.name,
                        where,
                        f"{exc.finding.message}; values that say {shown(value)} are "
                        "decoded by shape",
                    )
                )
                continue
            linked = self.convert(tdoc, tptr, tnode, str(value))
            if not linked.class_name:
                # Invalid, but real documents do it (GitHub's maps a value to an array):
                # the value is decoded by shape instead, like an unmapped one.
                self.findings.append(
                    Finding(
                        doc.name,
                        where,
                        f"{value!r} maps to a schema that is no object model; values "
                        "that say so are decoded as raw data",
                    )
                )
                continue
            pairs[str(value)] = linked.class_name
        mapped = set(pairs.values())
        for v in variants:
            if v.kind != OBJECT or not v.class_name or v.class_name in mapped:
                continue
            # implicit mapping: the variant's single-value enum for the property, else the
            # name of its component schema (its key, whatever class name it got); an inline
            # variant has no name to say, so its values are decoded by shape
            model = self.models.get(v.class_name, v)
            value = _component_key(model.source)
            for p in model.properties:
                if p.name == prop and p.schema.is_constant:
                    value = str(p.schema.enum_values[0])
            if value:
                pairs.setdefault(value, v.class_name)
        if not pairs:
            return None  # it names no variant: the union is decoded by shape
        return Discriminator(property_name=prop, mapping=tuple(sorted(pairs.items())))

    def _all_of(
        self,
        doc: Document,
        ptr: str,
        node: dict[str, Any],
        hint: str,
        class_name: str,
        common: dict[str, Any],
    ) -> Schema:
        parts = node["allOf"]
        if not isinstance(parts, list) or not parts:
            raise SpecError(doc.name, ptr + "/allOf", "allOf must be a non-empty list")
        rest = {k: v for k, v in node.items() if k != "allOf"}
        has_own = any(
            k in rest for k in ("properties", "required", "additionalProperties")
        )
        # `allOf: [{$ref: Expression}, {description: ...}]`: a reference with a
        # description of its own (common in documents converted from other formats), and
        # the schema the reference leads to may be the one being built (a recursive field)
        typed = [(i, p) for i, p in enumerate(parts) if not _annotation_only(p)]
        if len(typed) == 1 and not has_own and not class_name:
            at, part = typed[0]
            one = self.convert(doc, f"{ptr}/allOf/{at}", part, hint)
            noted = [
                p["description"]
                for p in parts
                if p is not part and isinstance(p.get("description"), str)
            ]
            return replace(
                one,
                nullable=one.nullable or common["nullable"],
                description=common["description"]
                or next((d for d in noted if d), "")
                or one.description,
            )
        if not has_own and not any(self._may_be_object(doc, p) for p in parts):
            # `allOf: [{$ref: SomeEnum}, {description: ...}]` and the like: not an object
            return self._all_of_value(doc, ptr, parts, hint, common)
        name = class_name or self._new_name(hint)
        merged: dict[str, Property] = {}
        required: list[str] = []
        one_of: list[tuple[str, ...]] = []
        additional: Schema | None = Schema(kind=ANY)
        sources = [(f"{ptr}/allOf/{i}", p) for i, p in enumerate(parts)]
        if has_own:
            sources.append((ptr, {k: v for k, v in rest.items() if k != "description"}))
        scratch: list[str] = []  # part classes made only to be merged here
        # null passes an allOf that states no type when it passes every part (typeless
        # object parts, parts that state null, annotations); the schema's own keys are a
        # part here too
        parts_admit_null = "type" not in node
        for i, (pptr, part) in enumerate(sources):
            part_name = f"{name}Part{i + 1}"
            if (
                pptr == ptr
            ):  # the schema's own keys: at its own pointer, which `convert` would
                # take for (a link to) the very model being built here
                piece = self._convert_inline(doc, ptr, part, part_name)
            else:
                piece = self.convert(doc, pptr, part, part_name)
            if piece.ref:
                if piece.ref in self.models:
                    piece = self.models[piece.ref]
                else:
                    piece = self._unfinished_part(doc, pptr, part, part_name)
            if piece.class_name == part_name:
                scratch.append(part_name)
            parts_admit_null = parts_admit_null and _admits_null(piece)
            if piece.kind == OBJECT:
                for p in piece.properties:
                    merged[p.name] = p
                required.extend(piece.required + piece.required_unlisted)
                one_of.extend(piece.required_one_of)
                if not piece.additional_allowed:
                    additional = None
            elif piece.kind == MAP:
                required.extend(piece.required_unlisted)
                if piece.items is not None and piece.items.kind != ANY:
                    additional = piece.items
            # anything else (a union of objects, an annotation-only part) adds no fields of
            # its own: what it allows stays reachable through additional_properties
            if isinstance(part, dict):
                required.extend(
                    r for r in part.get("required", []) or [] if isinstance(r, str)
                )
        for part_name in scratch:  # its fields are the merged model's now
            # unless a $ref to the part (`#/.../allOf/0`) already links to it
            if part_name not in self.linked:
                self.models.pop(part_name, None)
        if parts_admit_null:
            common["nullable"] = True
        required = list(dict.fromkeys(required))
        # a set, and a property copied only where it changes: a chain of allOfs re-reads
        # every property of the chain at each link (2,000 links took 30 s as a list)
        wanted = set(required)
        props = tuple(
            (
                p
                if p.required == (p.name in wanted)
                else replace(p, required=not p.required)
            )
            for p in merged.values()
        )
        py = field_names([p.name for p in props])
        props = tuple(
            p if p.py_name == n else replace(p, py_name=n) for p, n in zip(props, py)
        )
        if not props:
            _check_nesting(doc, ptr, additional)
            return Schema(
                kind=MAP,
                items=additional or Schema(kind=ANY),
                required_unlisted=tuple(required),
                **common,
            )
        model = Schema(
            kind=OBJECT,
            class_name=name,
            properties=props,
            required=tuple(r for r in required if r in merged),
            required_unlisted=tuple(r for r in required if r not in merged),
            required_one_of=tuple(one_of),
            additional=additional,
            additional_allowed=additional is not None,
            **common,
        )
        return self._register(name, model, doc, ptr)

    def _may_be_object(self, doc: Document, part: Any) -> bool:
        """Could this allOf part contribute object properties? (follows `$ref`s)"""
        seen = 0
        while isinstance(part, dict) and "$ref" in part and seen < 50:
            try:
                doc, _, part = self.ws.resolve(doc, part["$ref"], "")
            except SpecError:
                return True  # reported with its real pointer when converted
            seen += 1
        if not isinstance(part, dict):
            return False
        types = part.get("type")
        types = types if isinstance(types, list) else [types]
        if "object" in types or "allOf" in part:
            return True
        if any(k in part for k in ("properties", "additionalProperties", "required")):
            return True
        variants: list[Any] = []
        for key in ("oneOf", "anyOf"):
            listed = part.get(key)
            variants.extend(listed if isinstance(listed, list) else [])
        return any(self._may_be_object(doc, v) for v in variants)

    def _unfinished_part(self, doc: Document, ptr: str, node: Any, hint: str) -> Schema:
        """The content of an allOf part whose model is still being built.

        A base schema whose properties lead back (through a union of its subclasses, say) to
        the subclass being merged here is unfinished at this point: its fields are read again
        from its node. Only an allOf that leads back to itself (A allOf B, B allOf A) has no
        content to give, and stops the run.
        """
        tdoc, tptr, target = doc, ptr, node
        while isinstance(target, dict) and "$ref" in target:
            tdoc, tptr, target = self.ws.resolve(tdoc, target["$ref"], tptr + "/$ref")
        key = (tdoc.path, tptr)
        if key in self.expanding or not isinstance(target, dict):
            raise SpecError(doc.name, ptr, "allOf refers back to itself")
        self.expanding.add(key)
        try:
            return self._convert_inline(tdoc, tptr, target, hint)
        finally:
            self.expanding.discard(key)

    def _all_of_value(
        self,
        doc: Document,
        ptr: str,
        parts: list[Any],
        hint: str,
        common: dict[str, Any],
    ) -> Schema:
        """An allOf of non-object parts: the one part that says what the value is."""
        pieces = [
            self.convert(
                doc,
                f"{ptr}/allOf/{i}",
                part,
                hint if len(parts) == 1 else f"{hint}Part{i + 1}",
            )
            for i, part in enumerate(parts)
        ]
        typed = [p for p in pieces if p.kind != ANY]
        # an enum narrows a primitive; otherwise the first typed part wins (parts that
        # contradict each other describe no value at all, and Any is the honest type then)
        enums = [p for p in typed if p.kind == ENUM]
        kinds = {(p.kind, p.type) for p in typed if p.kind != ENUM}
        if enums:
            out = enums[0]
        elif len(kinds) == 1:
            out = next((p for p in typed if p.format), typed[0])
        else:
            out = Schema(kind=ANY)
        changes: dict[str, Any] = {"nullable": out.nullable or common["nullable"]}
        if common["description"]:
            changes["description"] = common["description"]
        if common.get("has_default"):
            changes.update(default=common["default"], has_default=True)
        if not out.source:
            changes["source"] = common["source"]
        return replace(out, **changes)


def _typeless_admits_null(node: dict[str, Any]) -> bool:
    """Is this a schema read as an object, a map or an array only for its keywords, which
    therefore admits null? (Asked of a schema that is no composition, enum or const.)

    With no `type`, `properties`, `additionalProperties` and `items` constrain a value
    only when it is an object (an array): any other value passes them, null included.
    Azure's documents have typeless `tags` maps that answer `"tags": null`, and a decoder
    that wanted an object lost the whole answer. Such a schema is marked nullable, as
    `nullable: true` and `type: [..., "null"]` are; OpenAPI 3.0's `nullable: false`
    changes nothing (it leaves the type as it is, and there is none). `type: object`
    keeps null out: that is the spec's word. A schema that is Any (`{}`, or string
    keywords with no type) admits null already. A `$ref` is what its target says, an enum
    what its values say, a composition what its parts say (`_union`, `_all_of`)."""
    return "type" not in node and SchemaBuilder._infer_type(node) != "any"


def _states_null(node: dict[str, Any]) -> bool:
    """Does a model admit null by its own keywords, as its conversion will find? Asked of a
    model still being built, whose link (a recursive reference: `Node.child`) must admit
    what the model admits. A composition's parts are not known yet: a link to one admits
    null only when the composition states it."""
    types = node.get("type")
    if node.get("nullable") is True or "null" in (
        types if isinstance(types, list) else [types]
    ):
        return True
    if isinstance(node.get("enum"), list) and None in node["enum"]:
        return True
    if any(k in node for k in ("allOf", "oneOf", "anyOf", "enum", "const")):
        return False
    return _typeless_admits_null(node)


def _admits_null(schema: Schema) -> bool:
    """Is null a value of `schema` (as converted)?"""
    return schema.nullable or schema.kind == ANY or schema.type == "null"


def _length(value: Any) -> int | None:
    """A minLength or maxLength as given (None when it is no non-negative integer)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if value >= 0 and value == int(value) else None


def finished_models(builder: SchemaBuilder) -> tuple[Schema, ...]:
    """Every named model (objects, enums, unions), sorted by class name."""
    return tuple(
        _with_variant_shapes(builder.models[n], builder.models)
        for n in sorted(builder.models)
        if builder.models[n].kind in (OBJECT, ENUM, UNION)
    )


def _with_variant_shapes(model: Schema, models: dict[str, Schema]) -> Schema:
    """A union whose object variants are links to models, with each link's `required` filled
    in from its model (also as an array variant's items): a union without a discriminator
    is decoded by those keys. (A link made while its model was still being built could not
    know them.)"""
    if model.kind != UNION or not model.variants:
        return model
    disc = model.discriminator
    if disc is not None:
        nested = tuple(
            sorted(
                {c for _, c in disc.mapping if c in models and models[c].kind == UNION}
            )
        )
        objects_only = _objects_only(model, models, {model.class_name})
        if nested or objects_only:
            model = replace(
                model,
                discriminator=replace(disc, unions=nested, objects_only=objects_only),
            )
    variants = tuple(_shaped(v, models) for v in model.variants)
    return model if variants == model.variants else replace(model, variants=variants)


def _json_typed(p: Property) -> Property:
    """A property as a union's shape test sees it: its names and its schema's JSON type."""
    t = p.schema
    return Property(
        p.name,
        p.py_name,
        Schema(kind=t.kind, type=t.type, enum_type=t.enum_type),
        p.required,
    )


def _shaped(variant: Schema, models: dict[str, Schema]) -> Schema:
    """A union's variant with the `required` and `properties` of its object links filled
    in, and of the links an array variant holds as items (two array variants are told
    apart by their items' keys)."""
    v = variant
    if v.ref and v.kind == OBJECT and v.ref in models and not v.properties:
        # its properties too: two links of the same keys are told apart by their types.
        # Only their names and JSON types: the union's module is rendered from its
        # variants, and a variant's description edited must not re-render it.
        target = models[v.ref]
        return replace(
            v,
            required=v.required or target.required,
            properties=tuple(_json_typed(p) for p in target.properties),
        )
    if v.kind == ARRAY and v.items is not None:
        items = _shaped(v.items, models)
        return v if items == v.items else replace(v, items=items)
    return v


def _objects_only(union: Schema, models: dict[str, Schema], seen: set[str]) -> bool:
    """Whether every value of `union` is a JSON object: each variant an object model or a
    map, never null, or a union (followed through its link; `seen` ends a cycle) of such.
    """
    for v in union.variants:
        if v.nullable:
            return False
        if v.kind == UNION:
            inner = models.get(v.ref or v.class_name)
            if inner is None or inner.nullable:
                return False
            if inner.class_name not in seen:
                seen.add(inner.class_name)
                if not _objects_only(inner, models, seen):
                    return False
        elif v.kind not in (OBJECT, MAP):
            return False
    return True


def model_modules(
    builder: SchemaBuilder, models: tuple[Schema, ...]
) -> tuple[tuple[str, str], ...]:
    """(class name, module) for every model: a component's module holds it and the classes
    its conversion made (`Repository` and `RepositoryOwner` in `repository`); a model made
    inline in an operation has a module of its own. Module names are snake_case, unique,
    and never a name the models package itself uses."""
    owners = sorted({builder.owner.get(m.class_name, m.class_name) for m in models})
    names = dedupe([bounded(snake(o)) for o in owners], reserved=("models", "init"))
    module = dict(zip(owners, names))
    return tuple(
        (m.class_name, module[builder.owner.get(m.class_name, m.class_name)])
        for m in models
    )


def _component_key(source: str) -> str:
    """The key of the component schema defined at `source` (`file#/components/schemas/Pet`:
    `Pet`), "" for a schema defined anywhere else (inline: no name of its own)."""
    try:
        parts = unescape_pointer(source.partition("#")[2])
    except ValueError:
        return ""
    if len(parts) == 3 and parts[:2] == ["components", "schemas"]:
        return parts[2]
    return ""


# The keywords of `Bounds`, by the kind of schema they bound
_BOUND_KEYWORDS = {
    "string": ("minLength", "maxLength", "pattern"),
    "integer": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
    "object": ("minProperties",),
}


def _bounds(node: dict[str, Any], kind: str) -> Bounds | None:
    """The bounds a schema of `kind` states (`Bounds`), None when it states none."""
    if not any(k in node for k in _BOUND_KEYWORDS.get(kind, ())):
        return None  # most schemas
    found: dict[str, Any] = {}
    if kind == "string":
        found.update(
            min_length=_length(node.get("minLength")),
            max_length=_length(node.get("maxLength")),
        )
        if isinstance(node.get("pattern"), str):
            found["pattern"] = node["pattern"]
    elif kind in ("integer", "number"):
        for bound, exclusive in (
            ("minimum", "exclusiveMinimum"),
            ("maximum", "exclusiveMaximum"),
        ):
            # OpenAPI 3.0 writes a boolean beside the bound, 3.1 the exclusive bound itself
            value, strict = node.get(bound), node.get(exclusive)
            if _finite(strict):
                value, strict = strict, True
            if _finite(value):
                found[bound] = value
                found["exclusive_" + bound] = strict is True
    elif kind == "object":
        found["min_properties"] = _length(node.get("minProperties"))
    stated = {k: v for k, v in found.items() if v is not None}
    return Bounds(**stated) if stated else None


# An inline model is named from where it stands (`<Parent><Property>`, `<Parent>Variant1`),
# so its name grows with each level it nests: 2,000 levels of oneOf made names of 16,000
# characters, each written several times in its module and the next (423 MB from 68 KB,
# 2.8 GB of memory). Real names stay well within this.
CLASS_NAME_LIMIT = 100


def _bounded_class(name: str) -> str:
    """`name` if it is at most `CLASS_NAME_LIMIT` characters, else its start and a digest
    of the whole (two long names that share a start stay apart)."""
    if len(name) <= CLASS_NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8].upper()
    return name[: CLASS_NAME_LIMIT - 9] + "X" + digest


def _finite(value: Any) -> bool:
    """A number a float can hold: examples reckon with bounds in floats, and YAML reads
    `1e400` written out in digits as an int no float holds (math.isfinite raised)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return abs(value) <= sys.float_info.max
    return math.isfinite(value)
