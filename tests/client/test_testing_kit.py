"""The generated `customerio_client.testing` kit, used the way a user's tests would use it.

A real fake server on 127.0.0.1 answering from the fixtures; failures (a 500 then success, a
dropped connection, a slow answer against a short timeout); assertion helpers; and the pytest
fixtures imported by a user's conftest.py, run in a separate pytest process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from customerio_client import (
    OPERATIONS,
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    PipelinesClient,
    TrackClient,
    events,
    fixtures,
)
from customerio_client.testing import FakeCustomerIO
from support.packages import ROOT

GENERATED = ROOT / "generated"
NOW = {"Retry-After": "0"}  # failures ask for an immediate retry: no backoff sleeps


@pytest.fixture
def cio() -> Iterator[FakeCustomerIO]:
    with FakeCustomerIO() as server:
        yield server


@pytest.fixture
def pipelines(cio: FakeCustomerIO) -> Iterator[PipelinesClient]:
    with PipelinesClient("key", base_url=cio.url) as client:
        yield client


def _email_bounced(user_id: str) -> dict[str, Any]:
    """An Email Bounced track call: from the events module's constructor when it has one."""
    build = getattr(events, "email_bounced", None)
    if build is not None:
        payload: dict[str, Any] = build(
            user_id=user_id, email_id="em-1", campaign_name="Spring", timestamp=None
        )
        return payload
    payload = fixtures.event("Email Bounced")
    payload["userId"] = user_id
    payload["properties"] = {**payload.get("properties", {}), "campaign_name": "Spring"}
    return payload


# ---- answers --------------------------------------------------------------------------------


def test_answers_with_the_fixture_response(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    result = pipelines.identify(**fixtures.request("pipelinesIdentify"))
    assert result.status_code == fixtures.response_status("pipelinesIdentify")
    assert result.json() == fixtures.response("pipelinesIdentify")
    cio.assert_called("pipelinesIdentify", times=1)
    cio.assert_not_called("pipelinesTrack")


def test_set_response_overrides_the_fixture(cio: FakeCustomerIO) -> None:
    cio.set_response("sendTransactionalEmail", {"delivery_id": "d-1", "queued_at": 1})
    from customerio_client import AppClient

    with AppClient("key", base_url=cio.url) as app:
        result = app.send_transactional_email(
            **fixtures.request("sendTransactionalEmail")
        )
    assert result.json() == {"delivery_id": "d-1", "queued_at": 1}
    cio.reset()
    with AppClient("key", base_url=cio.url) as app:
        result = app.send_transactional_email(
            **fixtures.request("sendTransactionalEmail")
        )
    assert result.json() == fixtures.response("sendTransactionalEmail")


def test_unknown_path_gets_404(cio: FakeCustomerIO) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(cio.url + "/no/such/path", timeout=10)
    assert caught.value.code == 404
    with pytest.raises(KeyError):
        cio.fail("noSuchOperation")
    with pytest.raises(KeyError):
        cio.calls("noSuchOperation")


def test_routes_event_calls_by_their_event_name(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    # Four operations share POST /v1/track; the body tells them apart.
    for operation_id in (
        "trackEmailEvent",
        "trackMobileAppEvent",
        "trackActionEvent",
        "pipelinesTrack",
    ):
        method = getattr(pipelines, OPERATIONS[operation_id].method)
        method(**fixtures.request(operation_id))
        cio.assert_called(operation_id, times=1)


# ---- failures -------------------------------------------------------------------------------


def test_a_500_then_success_is_retried(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    cio.fail("pipelinesTrack", status=500, headers=NOW)
    result = pipelines.track(**fixtures.request("pipelinesTrack"))
    assert result.status_code == 200
    assert result.retries == 1
    cio.assert_called("pipelinesTrack", times=2)
    first, second = cio.calls("pipelinesTrack")
    assert first.json == second.json  # the same message (same message id) both times


def test_failures_are_per_operation(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    cio.fail("pipelinesTrack", status=500, times=5, headers=NOW)
    pipelines.identify(**fixtures.request("pipelinesIdentify"))  # not affected
    with pytest.raises(InternalServerError):
        pipelines.track(**fixtures.request("pipelinesTrack"), max_retries=2)
    cio.assert_called("pipelinesTrack", times=3)
    cio.reset()
    assert pipelines.track(**fixtures.request("pipelinesTrack")).retries == 0


def test_a_failure_answers_with_a_json_error_body(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    # the error body the API would send, given as JSON like set_response's
    error = {"meta": {"error": "userId is too long"}}
    cio.fail("pipelinesIdentify", status=400, body=error)
    with pytest.raises(BadRequestError) as caught:
        pipelines.identify(**fixtures.request("pipelinesIdentify"))
    assert caught.value.body == error
    assert str(caught.value).endswith(": userId is too long")
    assert (
        pipelines.identify(**fixtures.request("pipelinesIdentify")).status_code == 200
    )
    cio.fail("pipelinesIdentify", status=400, body=b"not json")  # bytes go as they are
    with pytest.raises(BadRequestError) as caught:
        pipelines.identify(**fixtures.request("pipelinesIdentify"))
    assert caught.value.body == "not json"


def test_fail_next_applies_to_any_request(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    cio.fail_next(1, status=503, headers=NOW)
    result = pipelines.identify(**fixtures.request("pipelinesIdentify"))
    assert result.retries == 1


def test_a_dropped_connection(cio: FakeCustomerIO, pipelines: PipelinesClient) -> None:
    cio.fail("pipelinesIdentify", drop=True)
    with pytest.raises(APIConnectionError):
        pipelines.identify(**fixtures.request("pipelinesIdentify"), max_retries=0)
    cio.fail("pipelinesIdentify", drop=True)
    result = pipelines.identify(**fixtures.request("pipelinesIdentify"))
    assert result.status_code == 200 and result.retries == 1


def test_a_slow_answer_times_out(cio: FakeCustomerIO) -> None:
    cio.fail("trackCustomerEvent", delay=5.0)
    with TrackClient(
        "site", "key", base_url=cio.url, timeout=0.2, max_retries=0
    ) as track:
        with pytest.raises(APITimeoutError):
            track.track_customer_event(**fixtures.request("trackCustomerEvent"))
    cio.assert_called("trackCustomerEvent", times=1)


# ---- assertion helpers ----------------------------------------------------------------------


def test_assert_event_sent(cio: FakeCustomerIO, pipelines: PipelinesClient) -> None:
    pipelines.track_email_event(body=_email_bounced("user-1"))
    message = cio.assert_event_sent(
        "Email Bounced", user_id="user-1", properties={"campaign_name": "Spring"}
    )
    assert message["userId"] == "user-1"
    cio.assert_event_sent("Email Bounced")
    with pytest.raises(AssertionError, match="user-2"):
        cio.assert_event_sent("Email Bounced", user_id="user-2")
    with pytest.raises(AssertionError, match="properties"):
        cio.assert_event_sent("Email Bounced", properties={"campaign_name": "Autumn"})
    with pytest.raises(AssertionError, match="Email Opened"):
        cio.assert_event_sent("Email Opened")


def test_assert_event_sent_looks_inside_batches(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    item = fixtures.event("Application Installed")
    item["userId"] = "user-9"
    identify = dict(
        fixtures.request("pipelinesIdentify")["body"], userId="user-9", type="identify"
    )
    pipelines.batch(body={"batch": [identify, item]})
    cio.assert_called("pipelinesBatch", times=1)
    cio.assert_event_sent("Application Installed", user_id="user-9")
    cio.assert_identified("user-9", traits={"name": identify["traits"]["name"]})


def test_assert_identified(cio: FakeCustomerIO, pipelines: PipelinesClient) -> None:
    pipelines.identify(body={"userId": "u-1", "traits": {"plan": "pro", "seats": 3}})
    cio.assert_identified("u-1")
    cio.assert_identified("u-1", traits={"plan": "pro"})
    with pytest.raises(AssertionError, match="u-1"):
        cio.assert_identified("u-1", traits={"plan": "free"})
    with pytest.raises(AssertionError):
        cio.assert_identified("u-2")


def test_a_failed_assertion_says_what_it_read_and_lists_the_requests(
    cio: FakeCustomerIO,
) -> None:
    """A Track API identify is no Pipelines identify message: the failure said only
    "users identified: []", as if nothing had been sent."""
    with TrackClient("site-123456", "key-123456", base_url=cio.url) as track:
        track.identify_customer("u-1", body={"email": "a@example.com"})
    with pytest.raises(AssertionError) as caught:
        cio.assert_identified("u-1")
    assert "'type' is 'identify'" in str(caught.value)
    assert "(identifyCustomer)" in str(caught.value)
    with pytest.raises(AssertionError) as caught:
        cio.assert_event_sent("bought")
    assert "'event' field" in str(caught.value)
    assert "(identifyCustomer)" in str(caught.value)


def test_assert_called_messages(
    cio: FakeCustomerIO, pipelines: PipelinesClient
) -> None:
    pipelines.identify(**fixtures.request("pipelinesIdentify"))
    with pytest.raises(AssertionError, match=r"pipelinesTrack.*POST /v1/identify"):
        cio.assert_called("pipelinesTrack")
    with pytest.raises(AssertionError, match="2 time"):
        cio.assert_called("pipelinesIdentify", times=2)
    assert len(cio.calls()) == 1


# ---- pytest fixtures in a user's conftest.py --------------------------------------------------

USER_CONFTEST = """
from customerio_client.testing import customer_io_server, pipelines_client, track_client, app_client  # noqa: F401
"""

USER_TEST = """
from customerio_client import fixtures
from customerio_client.testing import FakeCustomerIO


def test_track(customer_io_server, pipelines_client):
    assert isinstance(customer_io_server, FakeCustomerIO)
    customer_io_server.fail("pipelinesTrack", status=500, headers={"Retry-After": "0"})
    result = pipelines_client.track(body={"userId": "u-7", "event": "Signed Up"})
    assert result.retries == 1
    customer_io_server.assert_event_sent("Signed Up", user_id="u-7")


def test_other_clients(customer_io_server, track_client, app_client):
    track_client.delete_customer(**fixtures.request("deleteCustomer"))
    app_client.list_segments()
    customer_io_server.assert_called("deleteCustomer", times=1)
    customer_io_server.assert_called("listSegments", times=1)


def test_fresh_server_per_test(customer_io_server):
    assert customer_io_server.requests == []
"""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(GENERATED), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_pytest_fixtures_from_a_user_conftest(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(USER_CONFTEST), encoding="utf-8"
    )
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TEST), encoding="utf-8")
    done = _run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)], tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_importing_testing_does_not_need_pytest(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['pytest'] = None\n"  # makes `import pytest` fail
        "import customerio_client.testing as t\n"
        "assert not hasattr(t, 'customer_io_server')\n"
        "with t.FakeCustomerIO() as s:\n"
        "    assert s.url.startswith('http://127.0.0.1:')\n"
        "print('ok')\n"
    )
    done = _run(["-c", code], tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "ok", (
        done.stdout + done.stderr
    )
