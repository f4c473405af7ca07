"""codegen/layout.py: where ruff's formatter and black disagree, the text the templates write
is laid out so that both leave it alone, at every length around the line limit."""

from __future__ import annotations

import black
import pytest

from generator.codegen.layout import LINE_LENGTH, alias_head, fit_parameters
from generator.render.formatting import format_sources

MODE = black.Mode(line_length=88, target_versions={black.TargetVersion.PY39})


def _agree(sources: dict[str, str]) -> None:
    by_ruff = format_sources(sources)
    differ = [
        n for n, s in sources.items() if black.format_str(s, mode=MODE) != by_ruff[n]
    ]
    assert (
        not differ
    ), f"{len(differ)} of {len(sources)} differ, e.g. {sources[differ[0]]}"


def _parameter_cases() -> dict[str, str]:
    cases: dict[str, str] = {}
    for n in range(1, 80):
        ann = f"{'A' * n} | Mapping[str, Any] | Unset"
        for default in ("", " = UNSET"):
            for extra in ([], ["limit: int | Unset = UNSET"], ["pet_id: str"]):
                body = f"body: {ann}{default}"
                params = (["*", body] if default else [body]) + extra
                head = "def _x_call("
                fitted = fit_parameters(params, 0, head, ") -> Call:")
                cases[f"f{n}{default}{len(extra)}.py"] = (
                    f"{head}{', '.join(fitted)}) -> Call:\n    pass\n"
                )
                fitted = fit_parameters(["self", *params], 4, magic=True)
                lines = "".join(f"        {p},\n" for p in fitted)
                cases[f"m{n}{default}{len(extra)}.py"] = (
                    f"class K:\n    def m(\n{lines}    ) -> APIResponse[int]:\n"
                    "        pass\n"
                )
    return cases


def test_long_union_parameters_are_laid_out_alike() -> None:
    cases = _parameter_cases()
    assert any("body: (" in s for s in cases.values())  # the rule did apply somewhere
    _agree(cases)


def test_a_long_union_alias_is_laid_out_alike() -> None:
    cases = {
        f"a{n}.py": f'{alias_head("W" * n)}\n    "str",\n    "dict[str, Any]",\n]\n'
        for n in range(50, 110)
    }
    assert any(": TypeAlias" not in s for s in cases.values())
    assert any(": TypeAlias" in s for s in cases.values())
    _agree(cases)


@pytest.mark.parametrize("n", [LINE_LENGTH - 30, LINE_LENGTH + 10])
def test_a_parameter_that_fits_is_left_alone(n: int) -> None:
    param = "x: " + "A" * (n // 2) + " | None = None"
    fitted = fit_parameters([param], 4, magic=True)
    assert (fitted == [param]) == (len(" " * 8 + param + ",") <= LINE_LENGTH)
