"""RQ (pinned in ``bench/.venv-peers``): a no-op job on a throwaway ``redis-server``.

Workers are RQ's standard ``Worker`` (a forked work horse per job, its default).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import harness
from redis import Redis
from rq import Queue, Worker

PORT = int(sys.argv[sys.argv.index("--target") + 1]) if "--target" in sys.argv else 0


def noop(i: int = 0) -> None:
    """Does nothing (records its start in latency runs)."""
    if i >= 0:
        harness.record_start(i)


def _redis() -> Redis:
    return Redis(host="127.0.0.1", port=PORT)


def _enqueue(ids: Sequence[int]) -> None:
    queue = Queue("bench", connection=_redis())
    queue.enqueue_many([Queue.prepare_data("sys_rq.noop", args=(i,)) for i in ids])


_poll = harness.Kept(_redis)


def _done() -> int:
    return Queue("bench", connection=_poll.get()).finished_job_registry.count


def make(args: argparse.Namespace) -> harness.System:
    return harness.System(
        name="rq",
        prepare=lambda: _redis().flushall(),
        worker_argv=lambda _i: [sys.executable, __file__, "worker", "--target", str(PORT)],
        enqueue=_enqueue,
        done=_done,
    )


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        Worker([Queue("bench", connection=_redis())], connection=_redis()).work(
            logging_level="WARNING"
        )
    else:
        harness.main(make)
