"""A pre-imported launcher: one interpreter that imports once and forks children on request.

Why: a worker process or a script's child is a fresh interpreter (``python -c``) that spends
most of its start importing — SQLAlchemy ~0.4 s of CPU, sysjobs and pydantic ~0.3 s — before
it does anything; a supervisor pays that for every child and for every replacement of one
that died, and the console pays it for its script child. A :class:`Launcher` is a fresh
interpreter started once, which imports what children need and then, on request, forks a
child that starts with those modules already there.

What makes the fork safe — the same rules as :func:`sysjobs.runtime.process.may_fork`:
the launcher imports modules and nothing else. It never loads V8 (a ``MiniRacer`` inherited
across ``fork()`` hangs; it refuses to fork once ``py_mini_racer`` is imported or more than
one thread runs, and the requester then starts a fresh interpreter), holds no connection, and
opens no file of its own. Its child closes every descriptor but the ones passed with the
request, reads stdin from ``/dev/null``, takes the requester's environment, working folder,
``sys.path`` and resource limits (sent as data, as ``subprocess`` would pass them — the
launcher's own are those of its start), starts a new session
(as ``start_new_session=True`` did: a terminal's Ctrl-C goes to the supervisor alone), and
never returns into the launcher's code (it ends with ``os._exit``). Python reseeds
:mod:`random` in a forked child, and sysjobs' id sources draw their per-process part again
when they see another pid; two children of one launcher share no connection, file or state
but the imported modules. What a fork cannot renew they do share, as any zygote's children:
the launcher's address-space layout and its ``str`` hash seed. The layout matters to an
attacker who can crash a child and try again (probing a layout a memory bug needs): a child
that crashes — ends non-zero without its owner asking — makes the launcher :meth:`renew`
itself, so the next child is forked from a fresh interpreter with a fresh layout, as every
replacement was before the launcher; the hash seed is not observable from a script.

Who owns it: whoever starts it (``sysjobs worker``, ``sysjobs serve``, a test session) and
passes it explicitly to what starts children (``WorkerProcesses(…, launcher=…)``,
``ProcessSandbox(…, launcher=…)``); no module-level state. It lives in ``runtime`` — the
lowest layer that both the worker supervisor and the script child's parent import; it knows
nothing of what it preloads but module names.

The protocol: requests travel over a ``SOCK_SEQPACKET`` socket pair, one message each, with
descriptors passed by ``SCM_RIGHTS``: a status socket of the request's own, a pipe's read
end, the requester's stdout and stderr (or a pipe end instead of stderr), and the child's own
descriptors (a control socket, a script child's socket). The launcher answers on the status
socket with the child's pid and a pidfd (so the requester can signal exactly that process,
never a reused pid); the requester then writes a byte on the pipe, and only then does the
child run its target — a child whose requester never got its handle ends without running
(else it would serve, unseen, on the very descriptors the requester hands to the fresh
interpreter it starts instead). The launcher reaps the child when it ends and sends its exit
status there (``-N`` for a death by signal N, as :class:`subprocess.Popen` says).
:class:`LaunchedChild` is the requester's handle, with what a supervisor and a
:class:`~sysjobs.runtime.process.ProcessSandbox` use of :class:`subprocess.Popen`.

The supervisor is no longer the child's parent: a child watches its control socket (its end
comes when the supervisor closes it or dies) rather than ``os.getppid()``.

When the launcher dies, the next request starts a new one in its place (a fresh interpreter:
a fresh layout too) and is served by it — a worker supervisor or console that runs for weeks
does not go back to fresh interpreters for good after one out-of-memory kill. A launcher that
keeps dying (:data:`RESTARTS` times within :data:`RESTART_WINDOW_S`) is broken, and is not
started again. When a request finds no launcher (one that died past that budget, or died
under the request), or the launcher stops answering (it is killed) or refuses (it loaded what
it must not: a new one would load it again), the request fails with
:class:`LauncherUnavailable` and the requester starts a fresh interpreter as before — no job
waits on a launcher; one hung or refusing is not used again. Children a dead launcher had
started go on; the exit status of one that ends after its launcher died is lost
(:data:`LOST_STATUS`), and its end is known from its pidfd.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

#: What the launcher's interpreter runs: the parent's ``sys.path``, then :func:`serve`.
_ENTRY = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[2]); "
    "from sysjobs.runtime.launcher import serve; serve(int(sys.argv[1]), json.loads(sys.argv[3]))"
)
#: The exit status reported for a child whose launcher died before it could say: no real
#: one (0..255, or -N for a signal N) reads the same.
LOST_STATUS = 256
#: Launchers started in place of dead ones within :data:`RESTART_WINDOW_S`, at most: one
#: that dies more often than that (at its imports, say) would make every request pay a
#: failed start; its requesters start fresh interpreters instead.
RESTARTS = 3
RESTART_WINDOW_S = 60.0
#: How long a request waits for the launcher's answer (it may still be importing, on a busy
#: machine) before it is taken as hung: killed, and the request falls back.
ANSWER_TIMEOUT_S = 30.0
#: Largest request (the requester's environment and ``sys.path`` included): one datagram,
#: within the socket's send buffer. A larger one is started as a fresh interpreter — as is
#: one within it that a host's smaller buffer (``net.core.wmem_default``) refuses.
REQUEST_BYTES = 128 * 1024
#: The resource limits a child takes from its requester at its start, as a fresh interpreter
#: would inherit them (the launcher's are those of its own start).
_INHERITED_LIMITS = (
    resource.RLIMIT_AS, resource.RLIMIT_CORE, resource.RLIMIT_CPU, resource.RLIMIT_DATA,
    resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE, resource.RLIMIT_NPROC, resource.RLIMIT_STACK,
)  # fmt: skip
#: Room for any message received (a request, an answer).
_MESSAGE_BYTES = 1 << 20


class LauncherUnavailable(Exception):
    """The launcher cannot start this child (dead, hung, or it loaded what it must not)."""


class LaunchedChild:
    """A child forked by the launcher: ``pid``, ``returncode`` (``-N``: signal N), ``poll``,
    ``wait(timeout)``, ``kill``, ``terminate``, ``send_signal`` — as :class:`subprocess.Popen`."""

    def __init__(
        self, pid: int, pidfd: int, status: socket.socket,
        on_crash: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd = pidfd
        self._status: socket.socket | None = status
        self._on_crash = on_crash
        self._signalled = False  # its owner sent it a signal: an end it asked for
        self._lock = threading.Lock()  # a kill from one thread, a poll from another

    def poll(self) -> int | None:
        if self.returncode is None:
            self._ended(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and not self._ended(timeout):
            raise subprocess.TimeoutExpired(f"process {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        with self._lock:
            if self.returncode is None:  # the pidfd still names this very process
                self._signalled = True
                with contextlib.suppress(OSError):
                    signal.pidfd_send_signal(self._pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def _ended(self, timeout: float | None) -> bool:
        """Whether the child ended within ``timeout`` (its status then set): the launcher's
        word, or — the launcher gone — the pidfd becoming readable."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            status = self._status
            if status is not None:
                if not select.select([status], [], [], timeout)[0]:
                    return False
                with contextlib.suppress(OSError):
                    answer = status.recv(_MESSAGE_BYTES)
                    if answer:
                        self._finish(int(json.loads(answer)["exit"]))
                        return True
                self._status = None  # the launcher died without saying: only the end is known
                status.close()
            if self.returncode is None:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not select.select([self._pidfd], [], [], left)[0]:
                    return False
                self._finish(LOST_STATUS)
        except (OSError, ValueError):  # another thread saw the end first and closed these
            pass
        return self.returncode is not None

    def _finish(self, code: int) -> None:
        with self._lock:
            if self.returncode is not None:
                return
            self.returncode = code
            os.close(self._pidfd)
            if self._status is not None:
                self._status.close()
                self._status = None
            crashed = code not in (0, LOST_STATUS) and not self._signalled
        if crashed and self._on_crash is not None:
            self._on_crash()


class Launcher:
    """The requester's side: :meth:`start` the launcher, :meth:`launch` children through it,
    :meth:`close` it. Thread-safe; usable by several supervisors and sandboxes at once."""

    def __init__(
        self, preload: Sequence[str], answer_timeout_s: float = ANSWER_TIMEOUT_S
    ) -> None:
        self.preload = tuple(preload)
        self.answer_timeout_s = answer_timeout_s
        self.proc, self._requests = _spawn(self.preload)
        #: Interpreters retired by :meth:`renew`, serving out the children they started.
        self._retired: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._gone = False  # closed, hung, refusing, or dead past its restarts: for good
        #: When launchers were started in place of dead ones (``time.monotonic()``).
        self._restarts: list[float] = []

    @classmethod
    def start(
        cls, preload: Sequence[str], *, answer_timeout_s: float = ANSWER_TIMEOUT_S
    ) -> Launcher:
        """Start a launcher that imports ``preload`` (modules that load no V8) ahead; one
        that does not answer a request within ``answer_timeout_s`` is taken as hung."""
        return cls(preload, answer_timeout_s)

    def renew(self) -> None:
        """Fork later children from a fresh interpreter — a fresh address-space layout.

        Called when a child it started crashed (ended non-zero, unasked): every child of one
        interpreter shares its layout, so a script that crashes its process on purpose could
        otherwise probe that layout again and again; now each crash meets a new one, as with
        fresh interpreters. The interpreter retired serves out the children it started
        (their exit statuses included), then ends."""
        with self._lock:
            if self._gone:
                return
            retired, requests = self.proc, self._requests
            self.proc, self._requests = _spawn(self.preload)
            requests.close()  # the retired one takes no request more
            self._retired = [p for p in self._retired if p.poll() is None] + [retired]

    @property
    def available(self) -> bool:
        """Whether requests are still sent to it (False once it failed one; a dead one is
        available again once :meth:`launch` started a new one in its place)."""
        return not self._gone and self.proc.poll() is None

    @property
    def restarts(self) -> int:
        """How many launchers were started in place of dead ones so far."""
        with self._lock:
            return len(self._restarts)

    def _revive(self) -> None:
        """Start a new launcher in place of one that died (not one ended as hung or that
        refused), within the :data:`RESTARTS` budget; past it, use none again."""
        with self._lock:
            if self._gone or self.proc.poll() is None:
                return
            now = time.monotonic()
            if sum(now - at < RESTART_WINDOW_S for at in self._restarts) >= RESTARTS:
                self._gone = True
                return
            self._restarts.append(now)
            self._requests.close()
            self.proc, self._requests = _spawn(self.preload)

    def launch(
        self, target: str, payload: Any, fds: Sequence[int] = (), *, stderr: int | None = None
    ) -> LaunchedChild:
        """Fork a child that calls ``target`` (``"module:function"``) with the numbers its
        copies of ``fds`` got and ``payload`` (JSON data); its stderr is ``stderr`` (else
        ours). Raises :class:`LauncherUnavailable` when the launcher cannot (the caller
        then starts a fresh interpreter)."""
        self._revive()
        if not self.available:
            raise LauncherUnavailable("the launcher is gone")
        paths = [p for p in sys.path if isinstance(p, str)]
        limits = {str(r): resource.getrlimit(r) for r in _INHERITED_LIMITS}
        request = {"target": target, "payload": payload, "env": dict(os.environ),
                   "cwd": os.getcwd(), "sys_path": paths, "limits": limits}  # fmt: skip
        message = json.dumps(request).encode("utf-8")
        if len(message) > REQUEST_BYTES:  # this child only: the launcher serves on
            too_large = f"a request of {len(message)} bytes (at most {REQUEST_BYTES})"
            raise LauncherUnavailable(too_large)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # The child calls ``target`` only once a byte comes on ``wait``: once we hold its
        # handle. Should we get none (the launcher hung or died after the fork, or we are out
        # of descriptors), it ends untouched — never a child of ours we cannot see, holding
        # ``fds`` that the caller passes on to the fresh interpreter it starts instead.
        wait, go = os.pipe()
        with contextlib.ExitStack() as stack:
            stack.callback(os.close, go)
            with theirs, contextlib.ExitStack() as sent:
                sent.callback(os.close, wait)
                std = [_std_fd(1, sent), stderr if stderr is not None else _std_fd(2, sent)]
                try:
                    with self._lock:
                        socket.send_fds(self._requests, [message],
                                        [theirs.fileno(), wait, *std, *fds])  # fmt: skip
                except OSError as exc:
                    ours.close()
                    if exc.errno == errno.EMSGSIZE:  # past the socket's buffer: this one only
                        too_large = f"a request of {len(message)} bytes (past the socket's buffer)"
                        raise LauncherUnavailable(too_large) from exc
                    self._give_up(unless_dead=True)
                    raise LauncherUnavailable("the launcher is gone") from exc
            child = self._answer(ours)
            with contextlib.suppress(OSError):  # it died already: its status says so
                os.write(go, b"g")
        return child

    def _answer(self, status: socket.socket) -> LaunchedChild:
        """The launcher's answer on ``status``: the child's pid and pidfd."""
        status.settimeout(self.answer_timeout_s)
        try:
            answer, pidfds, _flags, _addr = socket.recv_fds(status, _MESSAGE_BYTES, 1)
        except TimeoutError:
            # Hung: end it; a child it forked meanwhile has said so by now, or never will.
            self._give_up()
            status.setblocking(False)
            try:
                answer, pidfds, _flags, _addr = socket.recv_fds(status, _MESSAGE_BYTES, 1)
            except OSError:
                answer, pidfds = b"", []
        except OSError:
            answer, pidfds = b"", []
        status.setblocking(True)
        reply = json.loads(answer) if answer else {}
        if "pid" not in reply or not pidfds:
            for fd in pidfds:
                os.close(fd)
            status.close()
            # Hung or refusing: for good (what it loaded stays loaded); dead: the next
            # request starts another.
            self._give_up(unless_dead="refused" not in reply)
            raise LauncherUnavailable(reply.get("refused", "the launcher did not answer"))
        return LaunchedChild(int(reply["pid"]), pidfds[0], status, on_crash=self.renew)

    def _give_up(self, *, unless_dead: bool = False) -> None:
        """Use it no more; a hung launcher is ended (and reaped). ``unless_dead``: a launcher
        that died on its own is left for :meth:`_revive` instead."""
        if unless_dead and self.proc.poll() is not None:
            return
        self._gone = True
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        """End the launcher: it takes no request more and serves out its children for up to
        5 s (the children go on past it; the status of one that ends later is lost)."""
        with self._lock:
            self._gone = True
            self._requests.close()
        for proc in [self.proc, *self._retired]:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _spawn(preload: Sequence[str]) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """A launcher's interpreter importing ``preload``, and our end of its requests."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with theirs:
        paths = [p for p in sys.path if isinstance(p, str)]
        command = [sys.executable, "-c", _ENTRY, str(theirs.fileno()), json.dumps(paths),
                   json.dumps(list(preload))]  # fmt: skip
        proc = subprocess.Popen(command, pass_fds=(theirs.fileno(),),
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    return proc, ours


def _std_fd(fd: int, stack: contextlib.ExitStack) -> int:
    """``fd`` if this process has it open, else ``/dev/null`` (as a child would get)."""
    try:
        os.fstat(fd)
    except OSError:
        devnull = os.open(os.devnull, os.O_RDWR)
        stack.callback(os.close, devnull)
        return devnull
    return fd


# ---- the launcher's process ------------------------------------------------------------


def serve(fd: int, preload: Sequence[str]) -> None:
    """The launcher's loop: import ``preload``, then fork a child per request and report
    each child's exit status; end when the owner closes its end."""
    gc.disable()  # importing makes no garbage to speak of, and each collection walked it all
    try:
        for name in preload:
            with contextlib.suppress(Exception):  # the child reports a broken module itself
                importlib.import_module(name)
    finally:
        gc.enable()
    gc.collect()
    gc.freeze()  # the children share these pages: no collection of theirs touches them
    requests = socket.socket(fileno=fd)
    children: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, status socket)
    taking = True
    while taking or children:
        watched = [requests.fileno()] if taking else []
        for ready in select.select([*watched, *children], [], [])[0]:
            if ready in children:
                _report(ready, *children.pop(ready))
            elif not _take_request(requests, children):
                taking = False  # the owner closed its end (or died): serve out the children
    os._exit(0)


def _take_request(requests: socket.socket, children: dict[int, tuple[int, socket.socket]]) -> bool:
    """Receive one request and fork its child; False at the end of the requests."""
    try:
        message, fds, flags, _addr = socket.recv_fds(requests, _MESSAGE_BYTES, 64)
    except OSError:
        return False
    if not message or not fds:  # the end, or not even a status socket came (out of descriptors)
        for fd in fds:
            os.close(fd)
        return bool(message)
    status = socket.socket(fileno=fds[0])
    refusal = _refusal()
    if flags & socket.MSG_CTRUNC:  # at its descriptor limit: the child would lack some
        refusal = "the launcher is out of descriptors"
    if refusal or len(fds) < 4:
        with contextlib.suppress(OSError):
            status.send(json.dumps({"refused": refusal or "a malformed request"}).encode())
        status.close()
        for other in fds[1:]:
            os.close(other)
        return True
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    pid = os.fork()
    if pid == 0:
        _child(json.loads(message), fds[1:], [requests, status, *(s for _, s in children.values())])
    for other in fds[1:]:
        os.close(other)
    pidfd = os.pidfd_open(pid)
    with contextlib.suppress(OSError):  # a requester gone meanwhile: its child is still reaped
        socket.send_fds(status, [json.dumps({"pid": pid}).encode()], [pidfd])
    children[pidfd] = (pid, status)
    return True


def _refusal() -> str:
    """Why this process may not fork a child now ('' when it may)."""
    if threading.active_count() != 1:
        return "the launcher runs a thread"
    if "py_mini_racer" in sys.modules:
        return "the launcher imported py_mini_racer"
    return ""


def _report(pidfd: int, pid: int, status: socket.socket) -> None:
    """Reap the child that ended and tell its requester how."""
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    os.close(pidfd)
    with contextlib.suppress(OSError):
        status.send(json.dumps({"exit": code}).encode())
    status.close()


def _child(request: dict[str, Any], fds: list[int], sockets: list[socket.socket]) -> NoReturn:
    """In the forked child: become what a fresh interpreter would be, then run the target."""
    code = 1
    try:
        wait, out, err, *own = fds
        for sock in sockets:  # their numbers are closed below, never by a collected object
            sock.detach()
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in {int(n) for n in os.listdir("/proc/self/fd")} - {0, 1, 2, wait, *own}:
            with contextlib.suppress(OSError):
                os.close(fd)
        if os.read(wait, 1) != b"g":  # its requester holds no handle on it: it never runs
            os._exit(1)
        os.close(wait)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for limit, (soft, hard) in request["limits"].items():  # as a fresh child inherits them
            with contextlib.suppress(OSError, ValueError):  # not above the launcher's own hard
                resource.setrlimit(int(limit), (soft, hard))
        sys.path[:] = request["sys_path"]
        sys.argv[:] = ["-c"]  # as ``python -c CODE`` has it, not the launcher's arguments
        module, _, name = request["target"].partition(":")
        getattr(importlib.import_module(module), name)(own, request["payload"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # a broken child says why on stderr, as a fresh interpreter would
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
