"""Worker processes for the slow, independent work of a run: validating documents the cache
does not answer and formatting pieces of output black has not seen.

A `Pool` is the standard library's process pool, started on the first `submit` (a run whose
caches answer everything never starts one). Workers are forked on Linux, so they start at
once with what this process has imported; elsewhere, with one CPU, or with CIOGEN_JOBS=1,
work runs in this process when it is submitted.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # not a dependency at run time
    from typing_extensions import Self


def die_with_parent(parent: int) -> None:
    """Run first in a forked worker: end it when the process that started it dies. A
    worker waits on a pipe whose writing end it inherited too, so it would never see the
    end of it: a `generate` killed with SIGKILL or SIGTERM left its workers, 100-200 MB
    each, waiting for ever. Linux only (prctl); elsewhere there are no forked workers.
    """
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(1)


def _jobs() -> int:
    wanted = os.environ.get("CIOGEN_JOBS", "")
    if wanted.isdigit():
        return max(1, int(wanted))
    if not sys.platform.startswith("linux"):
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Pool:
    """`submit(fn, *args)` -> a Future; a context manager that waits for its workers."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or _jobs()
        self._executor: Executor | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        if self.jobs > 1 and self._executor is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("fork")
            try:
                self._executor = ProcessPoolExecutor(
                    self.jobs,
                    mp_context=context,
                    initializer=start_worker,
                    initargs=(os.getpid(),),
                )
            # no working semaphores (some containers): the work runs here instead
            except (OSError, NotImplementedError):
                self.jobs = 1
            else:
                # the workers are forked now: with SIGINT blocked, so that a Ctrl-C
                # before a worker ignores it reaches this process only
                with sigint_blocked():
                    return self._executor.submit(fn, *args)
        if self._executor is not None:
            return self._executor.submit(fn, *args)
        done: Future[Any] = Future()
        try:
            done.set_result(fn(*args))
        # raised again by result(), as a worker's exception would be
        except Exception as exc:  # noqa: BLE001
            done.set_exception(exc)
        return done

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is None:
            return
        executor, self._executor = self._executor, None
        if exc[0] is not None:
            # Ctrl-C or an error: what the workers do is of no use now, and one may be
            # waiting for ever (a Ctrl-C they ignore; a $ref's file that never ends):
            # they are stopped, not waited for
            with _sigint_ignored():
                for process in list(
                    (getattr(executor, "_processes", None) or {}).values()
                ):
                    process.kill()
                executor.shutdown(wait=True, cancel_futures=True)
            return
        executor.shutdown(wait=True)


def start_worker(parent: int) -> None:
    """Run first in a forked worker (the pool's, the render helper): it ignores Ctrl-C
    (`quiet_worker`) and ends when its parent does (`die_with_parent`)."""
    quiet_worker()
    die_with_parent(parent)


def quiet_worker() -> None:
    """A worker leaves Ctrl-C to the process that started it (which stops the workers):
    a terminal's SIGINT reaches every process of the group, and a worker interrupted
    would print a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """SIGINT held back (delivered when the block ends) in the main thread."""
    if not hasattr(signal, "pthread_sigmask") or (
        threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """A second Ctrl-C ignored while the first one's cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
