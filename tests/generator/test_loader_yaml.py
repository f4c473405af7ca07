"""Specs are read as YAML 1.2 (what OpenAPI 3 specifies), not PyYAML's YAML 1.1: real spec
text such as an aspect ratio `16:9`, a country code `NO` or an enum of `yes`/`no` must stay
strings, and a leading zero does not make an integer octal."""

from __future__ import annotations

from pathlib import Path

from support.packages import run_cli

from generator.spec.refs import load

SPEC = """\
openapi: 3.0.3
info: {title: t, version: '1'}
paths: {}
x-values:
  ratio: 16:9
  answers: [yes, no, on, off, y, n, Yes, NO]
  date: 2021-07-14
  octal_looking: 0123
  octal: 0o17
  hex: 0x1F
  underscored: 1_000
  float: 1.5
  exp: 1e3
  inf: .inf
  null_tilde: ~
  empty:
  booleans: [true, True, FALSE]
  merged:
    <<: {a: 1}
    b: 2
"""


def test_yaml_is_read_as_yaml_12(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    values = load([path]).roots[0].data["x-values"]
    assert values["ratio"] == "16:9"
    assert values["answers"] == ["yes", "no", "on", "off", "y", "n", "Yes", "NO"]
    assert values["date"] == "2021-07-14"
    assert (values["octal_looking"], values["octal"], values["hex"]) == (123, 15, 31)
    assert values["underscored"] == "1_000"
    assert (values["float"], values["exp"], values["inf"]) == (
        1.5,
        1000.0,
        float("inf"),
    )
    assert values["null_tilde"] is None and values["empty"] is None
    assert values["booleans"] == [True, True, False]
    assert values["merged"] == {"a": 1, "b": 2}


TWICE = """\
openapi: 3.0.3
info: {title: Twice, version: '1'}
paths:
  /a:
    get:
      operationId: first
      responses: {'200': {description: ok}}
  /a:
    get:
      operationId: second
      responses: {'200': {description: ok}}
components:
  schemas:
    Base: &base {type: object, properties: {x: {type: string}}}
    Merged:
      <<: *base
      type: object
"""


def test_a_key_written_twice_is_a_warning_naming_both_lines(tmp_path: Path) -> None:
    """YAML 1.2 forbids a key twice in one mapping and the parser keeps the last: the first
    operation would vanish without a word. Keys that override merged ones are not twice.
    """
    spec = tmp_path / "twice.yaml"
    spec.write_text(TWICE)
    out = ("--out", str(tmp_path / "o"), "--package", "twice_client", "--no-cache")
    result = run_cli("generate", "--spec", str(spec), *out)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "twice" in line]
    expected = (
        "warning: twice.yaml#/paths/~1a: key written twice (lines 4 and 8): "
        "the last one is used, the others are ignored"
    )
    assert warnings == [expected]
    operations = (tmp_path / "o" / "twice_client" / "REFERENCE.md").read_text()
    assert "second" in operations and "first" not in operations
    strict = run_cli(
        "generate", "--spec", str(spec), "--out", str(tmp_path / "s"), "--strict"
    )
    assert strict.returncode == 2
    assert strict.stderr.startswith("error: twice.yaml#/paths/~1a: key written twice")
    assert not (tmp_path / "s").exists()


def test_a_json_key_written_twice_is_a_warning(tmp_path: Path) -> None:
    spec = tmp_path / "twice.json"
    spec.write_text(
        '{"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": {'
        '"/a": {"get": {"operationId": "one", "responses": {"200": {"description": '
        '"ok", "description": "again"}}}}}}'
    )
    result = run_cli("generate", "--spec", str(spec), "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert (
        "warning: twice.json#/paths/~1a/get/responses/200/description: key written "
        "twice: the last one is used, the others are ignored"
    ) in result.stderr.splitlines()
