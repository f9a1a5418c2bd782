"""What an embedding platform adds, importable by path so worker processes build it too.

``sys.where.pid()`` answers with the id of the process whose sandbox runs the script: the
tests tell from it whether a job's JavaScript ran in the host's process or in a worker's.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict

from sysjobs.jobs import JobContext, JobType
from sysjobs.runtime import Namespace, Operation


class NoArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


def _pid(_ctx: Any, _args: NoArgs) -> int:
    return os.getpid()


where = Namespace(
    name="where",
    prelude="(function (host) { return { pid: function () { return host.call('pid', {}); } }; })",
    operations=(Operation("pid", NoArgs, _pid),),
)


def make_where() -> Namespace:
    """A factory: what an import path may name instead of the namespace itself."""
    return where


def broken_factory() -> Namespace:
    raise RuntimeError("the embedder's factory failed")


NOT_A_NAMESPACE = 42


def _shout(ctx: JobContext, data: Text) -> None:
    ctx.set_results({"shout": data.text.upper(), "pid": os.getpid()})


#: A plain Python job type, added by import path.
SHOUT = JobType("SHOUT", Text, _shout)
