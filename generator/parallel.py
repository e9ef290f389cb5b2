"""Worker processes: how many to use, and how they leave with the build that started them."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time


def default_workers() -> int:
    """How many processes share the work: PORTFOLIO_WORKERS, else one per core (two at most)."""
    chosen = os.environ.get("PORTFOLIO_WORKERS", "").strip()
    if chosen.isdigit() and int(chosen) > 0:
        return int(chosen)
    return min(2, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether worker processes can be forked here (they share the parent's objects as they
    are, so nothing has to be sent to them)."""
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
