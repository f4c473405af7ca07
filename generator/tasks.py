"""Tasks that run on a forked helper process beside this one, or here.

`Helper.submit(fn, *args)` returns a `Task`: `result()` waits for fn(*args) and `steal()`
takes a task back if it has not been sent to the helper yet (then `result()` runs it
here). `run_here` makes the same kind of task without a helper. The CLI uses one helper to
validate specs and another to run black while it builds the IR and renders (cli.render).

A helper is a plain `os.fork()` child, fed through a pair of pipes by a thread of this
process, rather than a `concurrent.futures` process pool: importing that machinery alone
(multiprocessing, its queues and connections) cost every cold run about 30 ms before its
helpers could start.
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import sys
import threading
from collections import deque
from typing import Any, BinaryIO, Callable, Deque, List, Optional, Set, Tuple

Submit = Callable[..., Any]
"""submit(fn, *args) -> a Task (Helper.submit, or run_here)."""

_AHEAD = 2  # tasks sent to a helper before it asks for more; the rest wait here, stealable
_SIZE = struct.Struct("<Q")  # the length of each pickled message on a pipe
_PIPES: Set[int] = set()  # this process's ends of every helper's pipes (see _serve)
_FAILED = object()  # a task's outcome when its helper died: run it here


class Task:
    """One call, run by a `Helper` or here. `result()` waits for it (once); `steal()` takes
    it back if it has not been sent to the helper, and `result()` then runs it here."""

    def __init__(self, fn: Callable[..., Any], args: Tuple[Any, ...], helper: Optional["Helper"] = None) -> None:
        self.fn, self.args, self.helper = fn, args, helper
        self.outcome: Any = None  # (ok, value) from the helper, or _FAILED
        self.done = False
        self.value: Any = None

    def steal(self) -> bool:
        if self.helper is not None and self.helper.take_back(self):
            self.helper = None
        return self.helper is None

    def result(self) -> Any:
        if not self.done:
            outcome: Any = self.helper.wait(self) if self.helper is not None else _FAILED
            if outcome is _FAILED:  # no helper, or it died: that costs time, never a result
                self.value = self.fn(*self.args)
            else:
                ok, value = outcome
                if not ok:
                    raise value
                self.value = value
            self.done = True
        return self.value


class Helper:
    """One forked helper process, started on first use (see the module docstring).

    Tasks are sent in the order they are submitted, at most `_AHEAD` before the helper has
    finished the earlier ones; the main process, once it has nothing else to do, steals
    the ones not yet sent from the back of the queue (`Formatter.finish`), so the two share
    the work on two cores. Without a helper (not Linux, where fork is the safe and fast way
    to start one; one CPU; CIOGEN_JOBS=1) every task runs in this process when its result
    is asked for.
    """

    def __init__(self) -> None:
        self.enabled = _want_helper()
        self._pid = 0
        self._lock = threading.Condition()
        self._queue: Deque[Task] = deque()  # submitted, not yet sent
        self._sent: Deque[Task] = deque()  # sent, answered in this order
        self._closing = False
        self._broken = False
        self._feeder: Optional[threading.Thread] = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Task:
        if not self.enabled:
            return Task(fn, args)
        if not self._pid:
            self._start()
        task = Task(fn, args, self)
        with self._lock:
            self._queue.append(task)
            self._lock.notify_all()
        return task

    def take_back(self, task: Task) -> bool:
        """Remove a task that was not sent yet (from the back, where stealing happens)."""
        with self._lock:
            if self._queue and self._queue[-1] is task:
                self._queue.pop()
                return True
            if task in self._queue:
                self._queue.remove(task)
                return True
            return False

    def wait(self, task: Task) -> Any:
        """The outcome of a submitted task, or _FAILED when it must run here instead."""
        with self._lock:
            while task.outcome is None:
                if self._broken and task in self._queue:
                    self._queue.remove(task)
                    return _FAILED
                self._lock.wait()
            return task.outcome

    def __enter__(self) -> "Helper":
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._pid:
            return
        with self._lock:  # after an error, tasks not sent are dropped; sent ones finish
            self._queue.clear()
            self._closing = True
            self._lock.notify_all()
        assert self._feeder is not None
        self._feeder.join()
        os.waitpid(self._pid, 0)
        self._pid = 0

    def _start(self) -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(task_w)  # so that this process closing its end is an end of input
            os.close(result_r)
            _serve(task_r, result_w)  # never returns
        os.close(task_r)
        os.close(result_w)
        _PIPES.update((task_w, result_r))
        self._pid = pid
        self._feeder = threading.Thread(target=self._feed, args=(task_w, result_r), daemon=True)
        self._feeder.start()

    def _feed(self, task_w: int, result_r: int) -> None:
        """This process's thread for the helper: sends tasks, a few ahead, and files the
        answers; at the end it tells the helper to stop."""
        writer, reader = os.fdopen(task_w, "wb"), os.fdopen(result_r, "rb")
        try:
            while True:
                with self._lock:
                    while not (self._closing or self._sent or self._queue):
                        self._lock.wait()
                    if self._closing and not self._sent:
                        break
                    batch: List[Task] = []
                    while self._queue and len(self._sent) < _AHEAD and not self._closing:
                        batch.append(self._queue.popleft())
                        self._sent.append(batch[-1])
                if batch:
                    for task in batch:
                        _send(writer, (task.fn, task.args))
                    writer.flush()
                    continue
                answer = _receive(reader)  # the lock is free and the GIL released meanwhile
                if answer is None:
                    raise EOFError("the helper stopped")
                with self._lock:
                    self._sent.popleft().outcome = answer
                    self._lock.notify_all()
            _send(writer, None)
            writer.flush()
        except Exception:  # noqa: BLE001 - whatever went wrong, the tasks still get done
            with self._lock:  # the helper died, or a task could not travel: run them here
                self._broken = True
                for task in self._sent:
                    task.outcome = _FAILED
                self._sent.clear()
                self._lock.notify_all()
        finally:
            for f in (writer, reader):
                _PIPES.discard(f.fileno())
                try:
                    f.close()
                except OSError:
                    pass


def _serve(task_r: int, result_w: int) -> None:
    """The helper process: runs tasks in order until told to stop, then exits."""
    for fd in _PIPES:  # other helpers' pipes: holding them would keep those helpers waiting
        try:
            os.close(fd)
        except OSError:
            pass
    # The helper starts as a copy of this process, maybe with the GC paused (see render):
    # what it inherited stays out of its collections; its own garbage is collected.
    gc.freeze()
    gc.enable()
    code = 0
    try:
        reader, writer = os.fdopen(task_r, "rb"), os.fdopen(result_w, "wb")
        while True:
            message = _receive(reader)
            if message is None:
                break
            fn, args = message
            try:
                answer: Tuple[bool, Any] = (True, fn(*args))
            except Exception as exc:  # raised again by Task.result in the main process
                answer = (False, exc)
            try:
                _send(writer, answer)
            except (pickle.PickleError, TypeError, AttributeError) as exc:
                _send(writer, (False, RuntimeError(f"a task's result could not be sent: {exc}")))
            writer.flush()
    except BaseException:  # a helper never reports on its own: the main process takes over
        code = 1
    os._exit(code)


def _send(f: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(_SIZE.pack(len(data)) + data)


def _receive(f: BinaryIO) -> Any:
    """The next message, or None at the end of the stream."""
    head = f.read(_SIZE.size)
    if len(head) < _SIZE.size:
        return None
    data = f.read(_SIZE.unpack(head)[0])
    return pickle.loads(data)


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
