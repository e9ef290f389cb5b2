"""generator.parallel.fork_map: the results of forked workers, in order, whatever each took."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from generator.parallel import Pool, WorkerFailed, fork_map


@pytest.mark.parametrize("here", [False, True])
def test_results_come_back_in_order_from_every_process(here: bool) -> None:
    items = list(range(400))
    ran: list[str] = []

    def work(n: int) -> tuple[int, int]:
        time.sleep(0.005)  # two seconds of work in all: every process gets some
        return n * n, os.getpid()

    done = fork_map(items, work, 2, here=here, meanwhile=lambda: ran.append("x"))
    assert [square for square, _ in done] == [n * n for n in items]
    assert ran == ["x"]  # meanwhile ran once, here
    pids = {pid for _, pid in done}
    assert len(pids) == 2
    assert (os.getpid() in pids) is here


def test_a_process_held_up_by_a_costly_item_does_not_hold_the_others() -> None:
    """One slow item early on: the other worker takes the batches the slow one would have
    had, so the slow worker makes far fewer than half of the results."""

    def work(n: int) -> int:
        if n == 0:
            time.sleep(3.0)
        return os.getpid()

    done = fork_map(list(range(640)), work, 2)
    slow = done[0]
    assert done.count(slow) < len(done) // 4


def test_a_failing_item_fails_the_map_with_its_traceback(tmp_path: Path) -> None:
    """The failure is reported with its traceback, and the other process takes no more work
    once it is known (each item it does leaves a file behind)."""

    def work(n: int) -> int:
        if n == 0:
            raise ValueError("item 0 is bad")
        time.sleep(0.01)
        (tmp_path / str(n)).touch()
        return n

    with pytest.raises(WorkerFailed, match="item 0 is bad"):
        fork_map(list(range(640)), work, 2)
    assert len(list(tmp_path.iterdir())) < 320  # far from all of the other 639


def test_below_the_least_nothing_is_forked() -> None:
    done = fork_map(list(range(10)), lambda n: os.getpid(), 2, least=100)
    assert set(done) == {os.getpid()}


def _made_here() -> tuple[int, list[int]]:
    return os.getpid(), []


def _warm(made: tuple[int, list[int]]) -> None:
    made[1].append(-1)


def _job(made: tuple[int, list[int]], n: int) -> tuple[int, int, list[int]]:
    made[1].append(n)
    time.sleep(0.05)
    return os.getpid(), made[0], list(made[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_pool_worker_prepares_once_and_every_job_of_its_gets_what_it_made(
    workers: int,
) -> None:
    """What ``prepare`` made is made once in each process that runs jobs (in the worker
    itself, warmed there; with one worker, in this process, unwarmed), and every job run
    there gets that same object, in this order."""
    with Pool(workers, _made_here, warm_each=_warm) as pool:
        first = pool.run(_job, list(range(8)), cost=lambda n: float(n))
        second = pool.run(_job, [8, 9], cost=lambda n: 1.0)
    done = first + second
    assert all(pid == maker for pid, maker, _ in done)  # made in the process that used it
    by_process: dict[int, list[int]] = {}  # the most each process's one object saw
    for pid, _, seen in done:
        if len(seen) > len(by_process.get(pid, [])):
            by_process[pid] = seen
    for pid, _, seen in done:  # every job of a process added to the same object
        assert by_process[pid][: len(seen)] == seen
    assert sorted(n for seen in by_process.values() for n in seen if n >= 0) == list(range(10))
    if workers == 1:
        assert list(by_process) == [os.getpid()]
        assert -1 not in by_process[os.getpid()]
    else:
        assert len(by_process) == 2 and os.getpid() not in by_process
        assert all(seen[0] == -1 for seen in by_process.values())  # warmed before any job
        assert all(seen.count(-1) == 1 for seen in by_process.values())  # and only once


def test_the_costliest_jobs_start_first_and_the_results_come_in_order() -> None:
    """Jobs go out costliest first, one at a time to each worker, so a long job given early
    does not leave the other worker idle at the end; the results keep the jobs' order."""
    jobs = [0.05] * 6 + [2.0]  # the costly one last in the list

    with Pool(2, _made_here) as pool:
        done = pool.run(_sleep_then_where, jobs, cost=lambda n: n)
    assert [n for n, _ in done] == jobs
    slow = done[-1][1]
    assert sum(1 for _, pid in done if pid == slow) == 1  # the other worker did the rest


def _sleep_then_where(made: object, n: float) -> tuple[float, int]:
    time.sleep(n)
    return n, os.getpid()


def _ask() -> tuple[str, int]:
    return "asked in", os.getpid()


@pytest.mark.parametrize("workers", [1, 2])
def test_the_first_worker_answers_what_it_is_asked_as_it_starts(workers: int) -> None:
    with Pool(workers, _made_here, ask=_ask) as pool:
        said, where = pool.answer()  # type: ignore[misc]
        assert pool.answer() == (said, where)  # asked once
        done = pool.run(_sleep_then_where, [0.3] * 6, cost=lambda n: n)
        workers_ran = {pid for _, pid in done}
    assert said == "asked in"
    if workers == 1:
        assert where == os.getpid() and workers_ran == {os.getpid()}
    else:
        assert where in workers_ran and os.getpid() not in workers_ran


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is gone too
        return stat.read().split(")")[-1].split()[0] != "Z"


def _forever(made: object, n: int) -> int:
    if n == 0:
        time.sleep(600)
    return os.getpid()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_closing_a_pool_stops_its_workers_even_in_the_middle_of_a_job() -> None:
    """A build that stops (an error, Ctrl-C) while a worker is busy does not leave it running."""
    pool = Pool(2, _made_here)
    workers = {pid for _, pid in pool.run(_sleep_then_where, [0.3] * 6, cost=lambda n: n)}
    assert len(workers) == 2
    with pytest.raises(TimeoutError):
        _run_for(pool, 1.0)
    pool.close()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_pool_closed_after_its_jobs_leaves_no_process_behind() -> None:
    """Idle workers are told to stop; each leaves, the first once the others are gone, so none
    is left running or unreaped."""
    with Pool(2, _made_here) as pool:
        workers = {pid for _, pid in pool.run(_sleep_then_where, [0.3] * 6, cost=lambda n: n)}
    assert len(workers) == 2
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)


def _run_for(pool: Pool[tuple[int, list[int]]], seconds: float) -> None:
    """Run a job that never ends, giving up after ``seconds`` as a Ctrl-C would."""
    import signal

    def stop(*_: object) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        pool.run(_forever, [0], cost=lambda n: 1.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _cannot_prepare() -> list[int]:
    raise ValueError("the fonts cannot be read")


@pytest.mark.parametrize("workers", [1, 2])
def test_what_a_worker_cannot_prepare_fails_its_jobs_with_the_reason(workers: int) -> None:
    with Pool(workers, _cannot_prepare) as pool, pytest.raises(ValueError, match="the fonts"):
        pool.run(_job, [1, 2, 3], cost=lambda n: 1.0)


def _fails(made: object, n: int) -> int:
    if n == 2:
        raise KeyError(f"job {n} is bad")
    return n


def test_a_failing_job_fails_the_run_with_its_error_and_the_worker_s_traceback() -> None:
    with Pool(2, _made_here) as pool, pytest.raises(KeyError, match="job 2 is bad") as failed:
        pool.run(_fails, list(range(5)), cost=lambda n: 1.0)
    assert isinstance(failed.value.__cause__, WorkerFailed)
    assert "_fails" in str(failed.value.__cause__)  # where in the worker it failed


def _ask_fails() -> object:
    raise RuntimeError("the library crashed as it loaded")


def test_a_question_the_first_worker_could_not_answer_is_an_error_where_it_is_asked() -> None:
    """Its traceback reaches this process (the worker cannot print it), and the pool still
    runs jobs."""
    with Pool(2, _made_here, ask=_ask_fails) as pool:
        with pytest.raises(WorkerFailed, match="the library crashed as it loaded"):
            pool.answer()
        done = pool.run(_sleep_then_where, [0.1] * 4, cost=lambda n: n)
    assert [n for n, _ in done] == [0.1] * 4


class _Particular(Exception):
    def __init__(self, code: int, why: str) -> None:
        super().__init__(f"{code}: {why}")


def _fails_oddly(made: object, n: int) -> int:
    raise _Particular(n, "an error that cannot be made again from its message")


def test_an_error_that_cannot_travel_back_fails_the_run_with_its_traceback() -> None:
    with Pool(2, _made_here) as pool, pytest.raises(WorkerFailed, match="cannot be made again"):
        pool.run(_fails_oddly, [1, 2], cost=lambda n: 1.0)
