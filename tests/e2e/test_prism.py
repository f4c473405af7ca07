"""Conformance: every operation, sent by the generated client with the package's fixtures, is
accepted by Prism (the validating OpenAPI mock) running the spec file that defines it.

The semantic-event operations (trackActionEvent, trackEmailEvent, trackMobileAppEvent) share
``POST /v1/track`` with pipelinesTrack, so each operation goes to the Prism of the file that
defines its operationId. Skipped when Prism is not installed (``make prism``), except under
``CI=true``, where that is a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from conftest import make_client, request_kwargs, spec_operations
from customerio_client import OPERATIONS, APIError, events, fixtures
from support.prism import PrismServer, prism_mock, require_prism

# Grouped by spec file, so each file's Prism is started once.
CASES = sorted(
    spec_operations().values(), key=lambda op: (op.spec.name, op.operation_id)
)


def test_every_operation_is_checked() -> None:
    assert {op.operation_id for op in CASES} == set(OPERATIONS)
    assert {op.spec.name for op in CASES} == {
        "track.yaml",
        "app.yaml",
        "pipelines.yaml",
        "action-events.yaml",
        "email-events.yaml",
        "mobile-app-events.yaml",
    }


@pytest.fixture(scope="module")
def prism_for() -> Iterator[Callable[[Path], PrismServer]]:
    """Prism for a spec file; starting one stops the previous (one node process at a time)."""
    require_prism()
    current: dict[Path, tuple[PrismServer, ExitStack]] = {}

    def get(spec: Path) -> PrismServer:
        if spec not in current:
            for _, stack in current.values():
                stack.close()
            current.clear()
            stack = ExitStack()
            current[spec] = (stack.enter_context(prism_mock(spec)), stack)
        return current[spec][0]

    try:
        yield get
    finally:
        for _, stack in current.values():
            stack.close()


@pytest.mark.parametrize(
    "operation_id",
    [op.operation_id for op in CASES],
    ids=[f"{op.spec.name}:{op.operation_id}" for op in CASES],
)
def test_operation_conforms_to_its_spec(
    operation_id: str, prism_for: Callable[[Path], PrismServer]
) -> None:
    spec_op = spec_operations()[operation_id]
    info = OPERATIONS[operation_id]
    prism = prism_for(spec_op.spec)
    options: dict[str, Any] = (
        {"strict": True} if info.client == "PipelinesClient" else {}
    )
    mark = prism.mark()
    error: APIError | None = None
    response: Any = None
    with make_client(
        info.client, base_url=prism.url, max_retries=0, **options
    ) as client:
        try:
            response = getattr(client, info.method)(**request_kwargs(operation_id))
        except APIError as exc:
            error = exc
    violations = prism.violations(since=mark)
    details = "\n".join(str(v) for v in violations)
    assert violations == [], (
        f"{operation_id} ({spec_op.spec.name}): Prism reported request violations:\n{details}\n"
        "--- Prism log ---\n" + "\n".join(prism.log_lines()[mark:])
    )
    assert error is None, f"{operation_id}: Prism answered {error!r}: {error}"
    assert response.status_code == fixtures.response_status(operation_id)
    response_problems = prism.response_violations(since=mark)
    assert response_problems == [], "\n".join(str(v) for v in response_problems)


# The operation (and so the spec file) of each semantic-event family.
FAMILY_OPERATION = {
    "action": "trackActionEvent",
    "email": "trackEmailEvent",
    "mobile_app": "trackMobileAppEvent",
}
# Grouped by family, so each family's Prism is started once.
EVENT_CASES = sorted(
    fixtures.EVENT_NAMES, key=lambda name: (events.EVENTS[name].family, name)
)


@pytest.mark.parametrize("name", EVENT_CASES)
def test_every_semantic_event_fixture_conforms(
    name: str, prism_for: Callable[[Path], PrismServer]
) -> None:
    """Every event's fixture (`fixtures.event(name)`), not only the one each event
    operation's own fixture carries, is a track call its spec accepts."""
    operation_id = FAMILY_OPERATION[events.EVENTS[name].family]
    info = OPERATIONS[operation_id]
    prism = prism_for(spec_operations()[operation_id].spec)
    mark = prism.mark()
    with make_client(info.client, base_url=prism.url, max_retries=0) as client:
        response = getattr(client, info.method)(body=fixtures.event(name))
    violations = prism.violations(since=mark)
    assert violations == [], "\n".join(str(v) for v in violations)
    assert response.status_code == fixtures.response_status(operation_id)


def test_prism_catches_a_nonconforming_request(
    prism_for: Callable[[Path], PrismServer],
) -> None:
    """Negative control: the check above is not vacuous."""
    spec_op = spec_operations()["pipelinesTrack"]
    prism = prism_for(spec_op.spec)
    mark = prism.mark()
    with make_client(
        "PipelinesClient", base_url=prism.url, max_retries=0, strict=True
    ) as client:
        with pytest.raises(APIError) as caught:
            # no event (the client itself refuses a call naming no person)
            client.track({"type": "track", "userId": "u-1"})
    assert 400 <= caught.value.status_code < 500
    assert prism.violations(since=mark) != []
