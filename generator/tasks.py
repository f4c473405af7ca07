"""Tasks that run on a forked helper process beside this one, or here.

`Helper.submit(fn, *args)` returns a `Task`: `result()` waits for fn(*args) and `steal()`
takes a task back if the helper has not started it (then `result()` runs it here).
`run_here` makes the same kind of task without a helper. The CLI uses one helper to
validate specs and another to run black while it builds the IR and renders (cli.render).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any, Callable, Tuple

Submit = Callable[..., Any]
"""submit(fn, *args) -> a Task (Helper.submit, or run_here)."""


class Task:
    """One call handed to a `Helper`. `result()` waits for it (once); `steal()` takes it back
    if the helper has not started it, and `result()` then runs it in this process."""

    def __init__(self, fn: Callable[..., Any], args: Tuple[Any, ...], future: Any = None) -> None:
        self.fn, self.args, self.future = fn, args, future
        self.done = False
        self.value: Any = None

    def steal(self) -> bool:
        if self.future is not None and self.future.cancel():
            self.future = None
        return self.future is None

    def result(self) -> Any:
        if not self.done:
            self.value, self.done = self._run(), True
        return self.value

    def _run(self) -> Any:
        if self.future is None:
            return self.fn(*self.args)
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self.future.result()
        except BrokenProcessPool:  # a helper that died costs time, never a result
            return self.fn(*self.args)


class Helper:
    """One forked helper process, started on first use (see the module docstring).

    Tasks run in the order they are submitted; the main process, once it has nothing else
    to do, steals the ones not yet started from the back of the queue (`Formatter.finish`),
    so the two share the work on two cores. Without a helper (not Linux, where fork is the
    safe and fast way to start one; one CPU; CIOGEN_JOBS=1) every task runs in this process
    when its result is asked for.
    """

    def __init__(self) -> None:
        self.enabled = _want_helper()
        self._pool: Any = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Task:
        if not self.enabled:
            return Task(fn, args)
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_helper_started)
        return Task(fn, args, self._pool.submit(fn, *args))

    def __enter__(self) -> "Helper":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:  # after an error, waits for the task the helper is running
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _helper_started() -> None:
    # The helper starts as a copy of this process, maybe with the GC paused (see render):
    # what it inherited stays out of its collections; its own garbage is collected.
    gc.freeze()
    gc.enable()


def _want_helper() -> bool:
    jobs = os.environ.get("CIOGEN_JOBS", "")
    if jobs.isdigit():
        return int(jobs) > 1
    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1
    except (AttributeError, OSError):
        return (os.cpu_count() or 1) > 1


def run_here(fn: Callable[..., Any], *args: Any) -> Task:
    """A task run in this process when its result is first asked for."""
    return Task(fn, args)
