"""Parallel work, in one place: how many processes, how work is shared, how workers leave.

Stages never fork. They offer work one item at a time (parse one file, render one page, lay out
one part of the PDF); the orchestrator and the cache layer decide what needs doing and hand it
here with the number of workers they were given. Nothing here is kept in module globals, so two
builds in one process do not meet; only a pool's worker process keeps, in
:data:`_prepared`, what it made as it started.

Three shapes of work:

* :func:`fork_map` shares a list of items between forked processes, each taking the next
  batch of items as it finishes the last, so a process that met costly items (a large index
  page) does not hold the others up. The work may be any function, a closure included: forked
  workers start as copies of this process, so nothing is pickled on the way in, only the
  results on the way out.
* :class:`Pool` lays out jobs of very unequal cost, longest first, on a pool of forked
  processes that lives as long as the ``with`` block (the PDF uses one for several rounds).
  Each worker makes, as it starts, what every job of its needs and no job should make again
  (the PDF's fonts and stylesheet); with one worker, the pool makes it once in this process.
* :class:`Background` runs one task in a forked process while this one goes on (the output
  writer writes the pages the cache holds while the build checks and renders).
* :class:`Meanwhile` runs one task that mostly waits on the disk on a thread of this process
  (the old output is removed while the build cache is saved).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")

#: In a worker process of a :class:`Pool`, and there only: what ``prepare`` made as the worker
#: started, handed to each of its jobs.
_prepared: list[Any] = []


def default_workers() -> int:
    """How many processes share the work: PORTFOLIO_WORKERS, else one per core (two at most).

    Read once, by the command line; everything below it is given the number.
    """
    chosen = os.environ.get("PORTFOLIO_WORKERS", "").strip()
    if chosen.isdigit() and int(chosen) > 0:
        return int(chosen)
    return min(2, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether worker processes can be forked here."""
    return "fork" in mp.get_all_start_methods()


def leave_with_parent() -> None:
    """In a worker process: exit as soon as the process that started it is gone (killed, say),
    instead of waiting for work that will never come."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, name="leave-with-parent", daemon=True).start()


class WorkerFailed(RuntimeError):
    """A worker process failed; the message holds its traceback."""


#: How many batches each worker's share of a fork_map is cut into: small enough that the
#: processes finish together, large enough that taking one costs nothing.
BATCHES_PER_WORKER = 32
#: Seconds a process waits to take its next batch before taking the map as failed (the lock
#: is held for a few instructions at a time).
LOCK_PATIENCE = 60.0


def fork_map(
    items: Sequence[T],
    work: Callable[[T], R],
    workers: int,
    *,
    here: bool = False,
    meanwhile: Callable[[], None] | None = None,
    least: int = 0,
) -> list[R]:
    """``[work(item) for item in items]``, shared by ``workers`` processes, in order.

    Forks only when there are two workers or more, at least ``least`` items, and fork is to be
    had; otherwise (or when no process can be started) everything runs here. Each process takes
    the next batch of items as it finishes the last. With ``here``, this process takes batches
    too (after ``meanwhile``); without, it runs ``meanwhile`` while the workers do all the
    items. ``meanwhile`` runs exactly once either way.
    """
    context = mp.get_context("fork") if can_fork() else None
    taken = None
    if context is not None and workers > 1 and len(items) >= max(least, 2):
        try:  # the first item no process has taken yet, with its lock, shared
            taken = context.Value("q", 0)
        except (OSError, ImportError):  # no shared memory or semaphores here (some containers)
            taken = None
    if context is None or taken is None:
        if meanwhile is not None:
            meanwhile()
        return [work(item) for item in items]
    started: list[tuple[Any, Any, int]] = []  # (process, connection, number)
    size = max(1, len(items) // (workers * BATCHES_PER_WORKER))

    lock, counter = taken.get_lock(), taken.get_obj()

    def batches() -> list[tuple[int, list[R]]]:
        done: list[tuple[int, list[R]]] = []
        while True:
            # Held for a few instructions; a process killed while holding it would leave the
            # others waiting for ever: they give up instead.
            if not lock.acquire(timeout=LOCK_PATIENCE):
                raise WorkerFailed("a worker stopped while taking its next items")
            try:
                first = counter.value
                counter.value = min(first + size, len(items))
            finally:
                lock.release()
            if first >= len(items):
                return done
            try:
                done.append((first, [work(item) for item in items[first : first + size]]))
            except BaseException:
                counter.value = len(items)  # the map has failed: the others take no more
                raise

    frozen = gc.get_freeze_count() > 0  # by the build that called: it unfreezes
    gc.freeze()  # keep the collector from touching (and so copying) the shared objects
    try:
        for number in range(1 if here else 0, workers):
            receive, send = context.Pipe(duplex=False)

            def run(send: Any = send) -> None:
                leave_with_parent()
                try:
                    data = pickle.dumps((True, batches()), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:
                    data = pickle.dumps((False, traceback.format_exc()))
                send.send_bytes(data)
                send.close()

            try:
                process = context.Process(target=run, daemon=True)
                process.start()
            except OSError:  # no process to spare: what is left is done by the others
                receive.close()
                send.close()
                break
            send.close()
            started.append((process, receive, number))
        if meanwhile is not None:
            meanwhile()
        done = batches() if here or not started else []
        failure = None
        for process, receive, number in started:
            try:
                ok, theirs = pickle.loads(receive.recv_bytes())
            except EOFError:
                ok, theirs = False, f"worker {number} ended without a result"
            receive.close()
            process.join()
            if ok:
                done += theirs
            else:
                failure = failure or str(theirs)
        if failure is not None:
            raise WorkerFailed(failure)
        results: list[Any] = [None] * len(items)
        for first, made in done:
            results[first : first + len(made)] = made
        return results
    finally:
        for process, _, _ in started:
            if process.is_alive():
                process.kill()
                process.join()
        if not frozen:
            gc.unfreeze()


class Background:
    """``task()`` run in a forked process while this one goes on; :meth:`wait` tells whether it
    finished. Where no process can be forked, :meth:`started` is False and nothing ran."""

    def __init__(self, task: Callable[[], None]) -> None:
        self._pid: int | None = None
        if not hasattr(os, "fork"):
            return
        try:
            pid = os.fork()
        except OSError:
            return  # no process to spare
        if pid == 0:  # the worker: run, then leave without running the parent's cleanup
            code = 1
            try:
                task()
                code = 0
            finally:
                os._exit(code)
        self._pid = pid

    @property
    def started(self) -> bool:
        return self._pid is not None

    def wait(self) -> bool:
        """Wait for the task; whether it ran to the end (False if it failed or never ran)."""
        if self._pid is None:
            return False
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        return os.waitstatus_to_exitcode(status) == 0


class Pool(Generic[S]):
    """Forked worker processes for jobs of unequal cost; use it as a context manager.

    ``prepare()`` makes what each job needs and no job should make again; every worker makes
    its own as it starts, then ``warm_each(made)`` warms it (fills a library's caches), and
    what the worker holds so far is set aside from the cyclic collector, so that collecting
    after a job walks only what that job made. Each job runs as ``fn(made, job)``. With one
    worker, jobs run in this process, which makes its own when the first job comes (and does
    not warm it: the first job does). ``fn`` and the jobs are pickled on the way to the
    workers, so they must be module-level functions and plain data.
    """

    def __init__(
        self,
        workers: int,
        prepare: Callable[[], S],
        warm: Callable[[], None] | None = None,
        warm_each: Callable[[S], None] | None = None,
    ) -> None:
        self.workers = workers
        self._prepare = prepare
        self._made: list[S] = []  # what this process made, when the jobs run here
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1 and can_fork():
            if warm is not None:
                warm()  # e.g. import a heavy library once, before the workers fork
            self._pool = ProcessPoolExecutor(
                workers,
                mp_context=mp.get_context("fork"),
                initializer=_start_worker,
                initargs=(prepare, warm_each),
            )

    def start(self) -> None:
        """Start the workers now (else they start with the first job), so that they prepare
        while this process goes on."""
        if self._pool is not None:
            self._pool.submit(_nothing)

    def run(
        self, fn: Callable[[S, T], R], jobs: Sequence[T], cost: Callable[[T], float]
    ) -> list[R]:
        """``[fn(made, job) for job in jobs]``, the costliest started first, results in order."""
        if self._pool is None:
            if not self._made:
                self._made.append(self._prepare())
            return [fn(self._made[0], job) for job in jobs]
        order = sorted(range(len(jobs)), key=lambda i: -cost(jobs[i]))
        prepare = self._prepare
        futures = {i: self._pool.submit(_with_prepared, prepare, fn, jobs[i]) for i in order}
        return [futures[i].result() for i in range(len(jobs))]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self._made.clear()

    def __enter__(self) -> Pool[S]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _start_worker(prepare: Callable[[], S], warm_each: Callable[[S], None] | None) -> None:
    leave_with_parent()
    try:
        made = prepare()
        if warm_each is not None:
            warm_each(made)
    except Exception:  # each job prepares again, and fails with what is wrong, as its own
        return
    _prepared[:] = [made]
    gc.freeze()  # what the worker inherited and made so far lives as long as it does


def _with_prepared(prepare: Callable[[], S], fn: Callable[[S, T], R], job: T) -> R:
    if not _prepared:
        _prepared.append(prepare())
    return fn(_prepared[0], job)


def _nothing() -> None:
    pass


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a build makes objects that live as long as it
    does (walking them again and again would find nothing to free)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class Meanwhile:
    """``task()`` on a thread of this process while it goes on: for work that mostly waits on
    the disk, where a process would cost more than it saves. :meth:`wait` waits for it; an
    error in the task is not raised (the task says what it tolerates)."""

    def __init__(self, task: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=task, name="meanwhile")
        self._thread.start()

    def wait(self) -> None:
        self._thread.join()
