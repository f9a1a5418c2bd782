"""``executeInJob``'s engine side: the job that runs a callback over items, in chunks.

The engine only starts the job and knows its inputs; the app registers the type
(:data:`IN_JOB_TYPE`, ``sysjobs.app.jobtypes.in_job``) whose handler runs the callback's
source in the sandbox through the job's script runner. ``'default'`` names the queue the
registered type declares (the app's default queue, ``mix``), so the issue's samples run
verbatim; any other value must be one of the app's queues — a built-in one or one of its
manifest's (``Registry.queue_names``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sysjobs.jobs.models import Job
from sysjobs.jobs.queues import DEFAULT_QUEUE_ALIAS
from sysjobs.jobs.registry import Registry
from sysjobs.jobs.values import bad

#: The job type ``executeInJob`` starts.
IN_JOB_TYPE = "EXECUTE_IN_JOB"
#: The name that stands for the type's own (the app's default) queue.
DEFAULT_QUEUE = DEFAULT_QUEUE_ALIAS
#: Items one call may hand over (they are stored in the job's row).
MAX_ITEMS = 10_000
#: Characters of a callback's source.
MAX_CALLBACK_CHARS = 100_000
#: Bytes of the items' JSON (UTF-8) one call may hand over: they are held by the host while
#: the call is served, stored in the job's row and copied into its parts.
MAX_ITEMS_BYTES = 16 * 1024 * 1024
#: Without ``step``: chunks per job (progress moves in as many steps) …
CHUNKS_WITHOUT_STEP = 10
#: … each of at most this many items (what a worker crash may make run again).
MAX_AUTO_STEP = 100


class _Enqueues(Protocol):
    registry: Registry

    def enqueue(
        self, type: str, data: Mapping[str, Any], *, label: str | None = ...,
        run_by: Mapping[str, Any] | None = ..., low_priority: bool = ...,
        queue: str | None = ..., parent_id: str | None = ...,
    ) -> Job: ...  # fmt: skip


def check_queue(value: object, queues: Sequence[str] | None = None) -> str:
    """``'default'`` or one of ``queues`` (the app's; None: any text, for the argument's
    shape — :func:`start_in_job` checks the name); ``BadRequest`` naming ``queue``
    otherwise."""
    if queues is None:
        if not isinstance(value, str) or not value:
            raise bad("queue", value, f"'{DEFAULT_QUEUE}' or the name of one of the app's queues")
        return value
    allowed = (DEFAULT_QUEUE, *queues)
    if not isinstance(value, str) or value not in allowed:
        raise bad("queue", value, ", ".join(allowed))
    return value


def check_items_bytes(items: Sequence[Any]) -> Sequence[Any]:
    """``items`` when their JSON is at most :data:`MAX_ITEMS_BYTES` bytes, else
    ``BadRequest`` naming ``items`` (a script repeats one string at no cost of its own)."""
    size = len(json.dumps(items, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
    if size > MAX_ITEMS_BYTES:
        raise bad("items", f"{size} bytes of JSON",
                  f"at most {MAX_ITEMS_BYTES} bytes of JSON in all (16 MiB)")  # fmt: skip
    return items


def auto_step(count: int) -> int:
    """The chunk size without ``step``: the items in :data:`CHUNKS_WITHOUT_STEP` chunks,
    none larger than :data:`MAX_AUTO_STEP`."""
    return max(1, min(MAX_AUTO_STEP, -(-count // CHUNKS_WITHOUT_STEP)))


def start_in_job(
    engine: _Enqueues, items: Sequence[Any], queue: str, callback: str, step: int | None,
    *, parent_id: str | None = None, run_by: Mapping[str, Any] | None = None,
) -> Job:  # fmt: skip
    """Enqueue the job that runs ``callback`` over ``items`` (inputs already validated)."""
    named = check_queue(queue, engine.registry.queue_names())
    resolved = engine.registry.require(IN_JOB_TYPE).queue if named == DEFAULT_QUEUE else named
    data = {
        "itemsCount": len(items), "step": step, "queue": named,
        "_items": list(items), "_callback": callback,
    }  # fmt: skip
    label = f"Execute in job ({len(items)} item{'s' if len(items) != 1 else ''})"
    return engine.enqueue(IN_JOB_TYPE, data, label=label, queue=resolved, parent_id=parent_id,
                          run_by=run_by)  # fmt: skip


#: Without ``step``, the items of a call spread over parallel parts (child jobs) only past
#: this many: below it the chunks run in turn, in order, in the one job.
PARALLEL_MIN_ITEMS = 100
#: Parts of a call whose queue sets no limit (the built-in queues).
THREADS_WITHOUT_LIMIT = 4


def plan_parts(count: int, step: int | None, max_concurrency: int | None) -> list[range]:
    """The item ranges of a call's parts, the owner's first: one range (everything in the
    owner, in turn) with ``step`` or up to :data:`PARALLEL_MIN_ITEMS` items; otherwise the
    chunks of :func:`auto_step` dealt into as many parts as the queue runs jobs at once
    (its ``max_concurrency``, :data:`THREADS_WITHOUT_LIMIT` without one) — never more
    parts than chunks, each part whole chunks."""
    if step is not None or count <= PARALLEL_MIN_ITEMS:
        return [range(0, count)]
    size = auto_step(count)
    chunks = -(-count // size)
    parts = max(1, min(chunks, max_concurrency or THREADS_WITHOUT_LIMIT))
    bounds = [(chunks * i // parts) * size for i in range(parts + 1)]
    return [range(bounds[i], min(count, bounds[i + 1])) for i in range(parts)]
