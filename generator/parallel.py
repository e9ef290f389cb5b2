"""Parallel work, in one place: how many processes, how work is shared, how workers leave.

Stages never fork. They offer work one item at a time (parse one file, render one page, lay out
one part of the PDF); the orchestrator and the cache layer decide what needs doing and hand it
here with the number of workers they were given. Nothing here is kept in module globals, so two
builds in one process do not meet.

Three shapes of work:

* :func:`fork_map` shares a list of items between forked processes, each taking the next
  batch of items as it finishes the last, so a process that met costly items (a large index
  page) does not hold the others up. The work may be any function, a closure included: forked
  workers start as copies of this process, so nothing is pickled on the way in, only the
  results on the way out.
* :class:`Pool` runs jobs of very unequal cost, longest first, on forked processes that live
  as long as the ``with`` block (the PDF uses one for several rounds). Its first worker starts
  as the pool is made, imports what the jobs need and forks the others, so that they get ready
  while this process goes on; each makes what every job of its needs and no job should make
  again (the PDF's fonts and stylesheet). With one worker, the pool makes it in this process.
* :class:`Background` runs one task in a forked process while this one goes on (the output
  writer writes the pages the cache holds while the build checks and renders).
* :class:`Meanwhile` runs one task that mostly waits on the disk on a thread of this process
  (the old output is removed while the build cache is saved).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import os
import pickle
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")


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


def leave_with_parent(parent: int | None = None) -> None:
    """In a worker process: exit as soon as ``parent`` (else the process that started it) is
    gone (killed, say), instead of waiting for work that will never come."""
    watched = os.getppid() if parent is None else parent

    def watch() -> None:
        while os.getppid() == watched:
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


def _forked(task: Callable[[], None]) -> int | None:
    """The process id of a forked child that runs ``task``, then leaves without running this
    process's cleanup (exit status 0 when the task returned, 1 when it raised); None when no
    process could be forked."""
    try:
        pid = os.fork()
    except OSError:
        return None  # no process to spare
    if pid == 0:  # the child never returns into the caller's code
        code = 1
        try:
            task()
            code = 0
        finally:
            os._exit(code)
    return pid


class Background:
    """``task()`` run in a forked process while this one goes on; :meth:`wait` tells whether it
    finished. Where no process can be forked, :meth:`started` is False and nothing ran."""

    def __init__(self, task: Callable[[], None]) -> None:
        self._pid = _forked(task) if hasattr(os, "fork") else None

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
    """Worker processes for jobs of unequal cost, ready before the first job comes; use it as a
    context manager.

    The first worker is forked as the pool is made, and this process goes on at once. That
    worker answers ``ask()`` (whether WeasyPrint loads here, which imports it), so that this
    process need not pay to find out, and forks the others as copies of itself, with what the
    answer imported. Then each worker makes with ``prepare()`` what its jobs need and no job
    should make again (the PDF's fonts and stylesheet), warms it with ``warm_each(made)``
    (fills a library's caches), and sets what it holds aside from the cyclic collector. Each
    job runs as ``fn(made, job)``, one at a time in each worker, the costliest first. With one
    worker (or where no process can be forked) the jobs run in this process, which prepares
    when the first job comes (and does not warm: the first job does), and :meth:`answer` asks
    here. ``fn`` and the jobs are pickled on the way to the workers, so they must be
    module-level functions and plain data.
    """

    def __init__(
        self,
        workers: int,
        prepare: Callable[[], S],
        warm_each: Callable[[S], None] | None = None,
        ask: Callable[[], object] | None = None,
    ) -> None:
        self._prepare = prepare
        self._ask = ask
        self._made: list[S] = []  # what this process made, when the jobs run here
        self._answer: list[object] = []
        self._first: int | None = None  # the first worker, this process's child
        self._ends: list[Connection] = []  # to each worker, in the order they are forked
        self._pids: dict[int, int] = {}  # end -> its worker's process, once it has said
        self._ready: set[int] = set()  # ends whose worker has prepared and waits for jobs
        self._gone: set[int] = set()  # ends whose worker ended (or was never forked)
        self._unread: set[int] = set()  # ends no longer listened to, their worker maybe alive
        self._idle = False  # every job given to the workers is done
        if workers > 1 and can_fork():
            self._start(workers, warm_each)

    def _start(self, workers: int, warm_each: Callable[[S], None] | None) -> None:
        pairs: list[tuple[Connection, Connection]] = []
        here = os.getpid()

        def first() -> None:
            for ours, _ in pairs:
                ours.close()
            ends = [theirs for _, theirs in pairs]
            _first_worker(ends, here, self._prepare, warm_each, self._ask)

        try:
            for _ in range(workers):
                pairs.append(mp.Pipe())
        except OSError:  # no descriptor to spare
            pass
        pid = _forked(first) if len(pairs) == workers else None
        for ours, theirs in pairs:
            theirs.close()
            if pid is None:  # the jobs run here
                ours.close()
            else:
                self._ends.append(ours)
        self._first = pid

    def answer(self) -> object:
        """What ``ask()`` returned: in the first worker as it started, else here and now.
        Raises WorkerFailed when the first worker could not answer."""
        if not self._answer:
            if self._ends:
                while not self._answer:  # the first worker greets with it before all else
                    if 0 in self._gone:
                        raise WorkerFailed("the first worker process ended before it answered")
                    self._receive(0)
            else:
                self._answer.append(self._ask() if self._ask is not None else None)
        answer = self._answer[0]
        if isinstance(answer, WorkerFailed):
            raise answer
        return answer

    def run(
        self, fn: Callable[[S, T], R], jobs: Sequence[T], cost: Callable[[T], float]
    ) -> list[R]:
        """``[fn(made, job) for job in jobs]``, the costliest started first, results in order.

        Each job goes to a worker that is ready and idle, so a job never waits for a worker
        still starting while another could take it; a worker that could not be forked has its
        share done by the others."""
        if not self._ends:
            if not self._made:
                self._made.append(self._prepare())
            return [fn(self._made[0], job) for job in jobs]
        self._idle = False
        waiting = sorted(range(len(jobs)), key=lambda i: cost(jobs[i]))  # the costliest last
        results: dict[int, R] = {}
        busy: dict[int, int] = {}  # end -> the job it is doing
        while waiting or busy:
            for end in sorted(self._ready - self._gone - set(busy)):
                if not waiting:
                    break
                job = waiting.pop()
                try:
                    data = pickle.dumps((fn, jobs[job]), pickle.HIGHEST_PROTOCOL)
                    self._ends[end].send_bytes(data)
                except OSError:  # the worker is gone: the others take its share
                    waiting.append(job)
                    self._gone.add(end)
                    continue
                busy[end] = job
            listening = [e for e in range(len(self._ends)) if e not in self._gone]
            if not listening:
                raise WorkerFailed("no worker process could be started")
            for ready in wait([self._ends[end] for end in listening]):
                end = next(end for end in listening if self._ends[end] is ready)
                try:
                    done = self._receive(end)
                except WorkerFailed:
                    if end in busy:
                        raise
                    continue  # it ended before taking a job: the others take its share
                if done is None:
                    continue  # the worker said it had started, or was ready
                ok, value, trace = done
                job = busy.pop(end)
                if not ok:
                    raise _failure(value, trace)
                results[job] = value
        self._idle = True
        return [results[i] for i in range(len(jobs))]

    def _receive(self, end: int) -> tuple[bool, Any, str] | None:
        """A worker's next message: a job's result, or None for a greeting (noted)."""
        try:
            message = pickle.loads(self._ends[end].recv_bytes())
        except (EOFError, OSError) as exc:
            self._gone.add(end)
            raise WorkerFailed("a worker process ended before its work was done") from exc
        except Exception as exc:  # what the worker sent cannot be read here: stop listening
            self._gone.add(end)
            self._unread.add(end)  # (it may still be running)
            raise WorkerFailed(f"a worker process sent what cannot be read ({exc})") from exc
        kind = message[0]
        if kind == "hello":
            _, pid, answer, trace = message
            self._pids[end] = pid
            if end == 0:
                self._answer.append(WorkerFailed(trace) if trace else answer)
            return None
        if kind == "ready":
            self._ready.add(end)
            return None
        _, ok, value, trace = message
        return bool(ok), value, str(trace)

    def close(self) -> None:
        """Let the workers go: told to stop when every job given them is done and each is
        ready (each then leaves, the first after the others), killed otherwise (a build that
        stopped while they were starting or busy): they hold nothing anyone needs."""
        self._made.clear()
        first, self._first = self._first, None
        if first is None:
            return
        try:
            for end, ours in enumerate(self._ends):
                while end not in self._gone and ours.poll(0):  # what they said, not read yet
                    with contextlib.suppress(WorkerFailed):
                        self._receive(end)
            live = [end for end in range(len(self._ends)) if end not in self._gone]
            stopping = self._idle and not self._unread and all(e in self._ready for e in live)
            if stopping:
                for end in live:
                    try:
                        self._ends[end].send_bytes(b"")  # stop
                    except OSError:
                        stopping = False
            if not stopping:  # the first worker, and the others known to be alive
                known = [*live, *self._unread]
                pids = {first, *(self._pids[end] for end in known if end in self._pids)}
                for pid in pids:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
        finally:
            for ours in self._ends:
                ours.close()
            self._ends = []
            with contextlib.suppress(ChildProcessError):
                os.waitpid(first, 0)

    def __enter__(self) -> Pool[S]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _first_worker(
    ends: list[Connection],
    parent: int,
    prepare: Callable[[], S],
    warm_each: Callable[[S], None] | None,
    ask: Callable[[], object] | None,
) -> None:
    """The first worker of a :class:`Pool`: answer, fork the others, and (each) prepare, warm
    and serve."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the process that made the pool
    gc.enable()  # jobs make cycles, whatever the caller had paused
    answer, trace = None, ""
    try:
        answer = ask() if ask is not None else None
    except BaseException:  # said to the pool, which says it where the answer is wanted
        trace = traceback.format_exc()
    _send(ends[0], ("hello", os.getpid(), answer, trace))
    me = os.getpid()

    def other(end: Connection) -> None:
        for each in ends:
            if each is not end:
                each.close()
        leave_with_parent(me)
        _send(end, ("hello", os.getpid(), None, ""))
        _worker(end, prepare, warm_each)

    children = []
    for end in ends[1:]:
        pid = _forked(partial(other, end))
        if pid is not None:  # else the pool gives this one's share to the others
            children.append(pid)
        end.close()
    # Only now, with no process left to fork: a process with threads should not fork. The
    # parent is named, so that one gone meanwhile is noticed at once.
    leave_with_parent(parent)
    _worker(ends[0], prepare, warm_each)
    for pid in children:
        os.waitpid(pid, 0)


def _worker(
    end: Connection, prepare: Callable[[], S], warm_each: Callable[[S], None] | None
) -> None:
    """One worker of a :class:`Pool`, once forked: prepare, warm, say so, serve."""
    made: list[S] = []
    try:
        made.append(prepare())
        if warm_each is not None:
            warm_each(made[0])
    except Exception:  # each job prepares again, and fails with what is wrong, as its own
        made.clear()
    gc.freeze()  # what the worker holds so far lives as long as it does
    _send(end, ("ready",))
    _serve(end, made, prepare)


def _send(end: Connection, message: tuple[object, ...]) -> None:
    end.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def _serve(end: Connection, made: list[S], prepare: Callable[[], S]) -> None:
    """Run the jobs that come through ``end`` until it closes or says stop (no bytes)."""
    while True:
        try:
            data = end.recv_bytes()
        except (EOFError, OSError):
            return
        if not data:
            return
        fn, job = pickle.loads(data)
        try:
            if not made:
                made.append(prepare())
            reply: tuple[object, ...] = ("result", True, fn(made[0], job), "")
        except Exception as exc:
            reply = ("result", False, exc, traceback.format_exc())
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
            if not reply[1]:
                pickle.loads(data)  # an error that cannot be made again there is not sent
        except Exception:  # what cannot travel does not: the traceback does
            data = pickle.dumps(("result", False, None, str(reply[3]) or traceback.format_exc()))
        end.send_bytes(data)


def _failure(error: object, trace: str) -> BaseException:
    """The error a job failed with, as raised in this process, its worker's traceback as the
    cause; or WorkerFailed with that traceback when the error could not travel."""
    failed = WorkerFailed(trace)
    if isinstance(error, BaseException):
        error.__cause__ = failed
        return error
    return failed


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
