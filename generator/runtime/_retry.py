"""When to retry, and how long to wait first.

Pure functions of their inputs (the random source is passed in), so the sync and async clients
share every decision and tests can drive them without a network or a clock.
"""

from __future__ import annotations

import calendar
import email.utils
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

DEFAULT_MAX_RETRIES: Final = 2
INITIAL_RETRY_DELAY: Final = 0.5  # seconds
MAX_RETRY_DELAY: Final = 8.0  # seconds
# A server asking for a longer pause is better answered with an error the caller can schedule
# around than with a thread blocked for minutes.
MAX_RETRY_AFTER: Final = 60.0  # seconds


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay: float
    reason: str


def is_retryable_status(status: int) -> bool:
    """408, 429 and 5xx may succeed later; any other 4xx will fail the same way again."""
    return status in (408, 429) or 500 <= status <= 599


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if key.lower() == name:
            return candidate
    return None


def _non_negative_number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value


def _seconds_until(http_date: str, now: float) -> float | None:
    parsed = email.utils.parsedate_tz(http_date)
    if parsed is None:
        return None
    # HTTP-dates are always GMT; a missing offset means the same, never local time.
    offset = parsed[9] or 0
    try:
        when = calendar.timegm(parsed[:9]) - offset
    except (OverflowError, ValueError):
        return None
    return max(0.0, when - now)


def retry_after_seconds(
    headers: Mapping[str, str], now: float | None = None
) -> float | None:
    """Seconds the server asked us to wait, or None when it did not say (or said nonsense).

    Understands ``retry-after-ms`` (milliseconds, non-standard but more precise) and both forms
    of ``Retry-After``: delta-seconds and an HTTP-date.
    """
    millis = _header(headers, "retry-after-ms")
    if millis is not None:
        value = _non_negative_number(millis)
        if value is not None:
            return value / 1000.0
    text = _header(headers, "retry-after")
    if text is None:
        return None
    seconds = _non_negative_number(text)
    if seconds is not None:
        return seconds
    return _seconds_until(text, time.time() if now is None else now)


def backoff_delay(retry_number: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, initial * 2**n)).

    Full jitter spreads clients that failed together, so they do not retry in lockstep.
    ``retry_number`` is the number of retries already made (0 before the first).
    """
    ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0 ** min(retry_number, 32))
    return rng.random() * ceiling


def decide(
    retry_number: int,
    max_retries: int,
    status: int | None,
    headers: Mapping[str, str],
    rng: random.Random,
) -> RetryDecision:
    """Whether to retry after a failed attempt, and after how long.

    ``status`` is None when no response arrived (connection error or timeout).
    ``retry_number`` is the number of retries already made for this call.
    """
    if status is not None and not is_retryable_status(status):
        return RetryDecision(False, 0.0, f"status {status} is not retryable")
    if retry_number >= max_retries:
        return RetryDecision(False, 0.0, f"gave up after {retry_number} retries")
    if status is None:
        return RetryDecision(True, backoff_delay(retry_number, rng), "no response")
    requested = retry_after_seconds(headers)
    if requested is None:
        return RetryDecision(True, backoff_delay(retry_number, rng), f"status {status}")
    if requested > MAX_RETRY_AFTER:
        return RetryDecision(
            False,
            0.0,
            f"server asked to wait {requested:g}s, over {MAX_RETRY_AFTER:g}s",
        )
    return RetryDecision(
        True, requested, f"status {status}, server asked to wait {requested:g}s"
    )
