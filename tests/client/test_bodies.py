"""Request bodies other than JSON, and query parameters that are not exploded, on the wire."""

from __future__ import annotations

import email.parser
import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from support.packages import DATA, generate, imported


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    out = tmp_path_factory.mktemp("bodies")
    generate(out, "bodies_pkg", [DATA / "content_types.yaml"])
    with imported(out):
        yield importlib.import_module("bodies_pkg")


def test_form_body_and_comma_joined_query(pkg: Any) -> None:
    from bodies_pkg._fake_server import FakeServer

    with FakeServer() as server:
        pkg.ContentTypesClient(base_url=server.url).post_form(
            body={"a": "x y", "n": 3}, ids=[1, 2], tags=["p", "q"]
        )
        req = server.requests[0]
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert req.body == b"a=x%20y&n=3"
    assert req.query == {"ids": ["1,2"], "tags": ["p", "q"]}


def test_multipart_body_keeps_file_bytes(pkg: Any) -> None:
    from bodies_pkg._fake_server import FakeServer

    with FakeServer() as server:
        pkg.ContentTypesClient(base_url=server.url).post_multi(
            body={"file": b"\x00\x01", "meta": {"k": 1}}
        )
        req = server.requests[0]
    ctype = req.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    message = email.parser.BytesParser().parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + req.body
    )
    parts = {
        p.get_param("name", header="content-disposition"): p
        for p in message.get_payload()
    }
    assert parts["file"].get_payload(decode=True) == b"\x00\x01"
    assert parts["meta"].get_content_type() == "application/json"
    assert parts["meta"].get_payload() == '{"k":1}'


def test_multipart_field_names_are_written_as_browsers_write_them(pkg: Any) -> None:
    """RFC 7578 4.2: brackets stay as they are (SoundCloud's `track[asset_data]`); a quote
    and line breaks are escaped, so no name can end the header or add one."""
    from bodies_pkg._fake_server import FakeServer

    with FakeServer() as server:
        pkg.ContentTypesClient(base_url=server.url).post_multi(
            body={"track[asset_data]": b"x", 'a"b\r\nX-Evil: 1': "v"}
        )
        body = server.requests[0].body
    assert b'name="track[asset_data]"; filename="track[asset_data]"' in body
    assert b'name="a%22b%0D%0AX-Evil: 1"' in body and b"\r\nX-Evil" not in body


def test_octet_stream_body_is_sent_as_is(pkg: Any) -> None:
    from bodies_pkg._fake_server import FakeServer

    with FakeServer() as server:
        pkg.ContentTypesClient(base_url=server.url).put_raw(body=b"\x00raw")
        req = server.requests[0]
    assert req.headers["content-type"] == "application/octet-stream"
    assert req.body == b"\x00raw"


def test_binary_fields_of_a_multipart_model_are_file_parts(pkg: Any) -> None:
    from bodies_pkg import models
    from bodies_pkg._fake_server import FakeServer

    model = next(
        getattr(models, n) for n in models.__all__ if n.startswith("PostMulti")
    )
    assert model.__annotations__["file"].startswith("bytes")
    with FakeServer() as server:
        pkg.ContentTypesClient(base_url=server.url).post_multi(
            body=model(file=b"\x00\x01", meta={"k": 1})
        )
        req = server.requests[0]
    ctype = req.headers["content-type"]
    message = email.parser.BytesParser().parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + req.body
    )
    parts = {
        p.get_param("name", header="content-disposition"): p
        for p in message.get_payload()
    }
    assert parts["file"].get_payload(decode=True) == b"\x00\x01"
    assert parts["file"].get_filename() == "file"


def test_bytes_in_a_json_body_are_base64(pkg: Any) -> None:
    from bodies_pkg._encoding import encode_json
    from bodies_pkg._serde import to_json

    assert to_json({"a": b"\x00\x01"}) == {"a": b"\x00\x01"}
    assert encode_json({"a": b"\x00\x01"}) == b'{"a":"AAE="}'
