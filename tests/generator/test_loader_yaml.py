"""Specs are read as YAML 1.2 (what OpenAPI 3 specifies), not PyYAML's YAML 1.1: real spec
text such as an aspect ratio `16:9`, a country code `NO` or an enum of `yes`/`no` must stay
strings, and a leading zero does not make an integer octal."""

from __future__ import annotations

from pathlib import Path

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
