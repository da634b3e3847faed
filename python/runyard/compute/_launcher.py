"""The launcher: a process of this user that starts runyard's detached processes (run
supervisors, pipeline and sweep drivers) by ``fork``, with their imports already done.

A supervisor started as a new interpreter (``python -m runyard.compute._supervisor WS
RUN_ID``) spends most of its start importing runyard, SQLAlchemy and pydantic: 0.45 s of
the 0.5 s a trivial script took from submit to Completed, paid again by every trial of a
sweep, AutoML iteration and pipeline step. Lazy imports cannot remove it: the supervisor
writes the run history, and that is SQLAlchemy. The launcher imports those modules once
and forks a process per request, which then is what a new interpreter would have been:

- it leads a session of its own and is the launcher's child, not the submitter's: the run
  goes on when the submitting process exits or is killed;
- it gets the submitter's environment variables, working folder, umask and log file, as
  ``start_detached`` gives them to a new interpreter. What only an interpreter's start
  reads (``PYTHON*``, ``LD_*``, locale variables, ``HOME``), the resource limits, control
  group, CPU affinity and niceness it inherits from the launcher instead, so those are part
  of the launcher's key: a submitter whose differ gets a launcher of its own;
- the launcher never opens a database: SQLite forbids inheriting a connection across fork.

The key also names the interpreter and the identity of the runyard package (its folder,
version and newest ``.py`` mtime) and of site-packages (its mtime): an edited checkout or
a pip install gets a new launcher, never stale code, and the new one stops the stale one.

A launcher listens on ``<folder>/<key>.sock``. The folder (``RUNYARD_LAUNCHER_DIR``, else
``$XDG_RUNTIME_DIR/runyard``, else ``runyard-<uid>`` in the temp folder) and the socket
must be this user's and private, and each side checks the other's uid (``SO_PEERCRED``).
A request is one length-prefixed JSON object; anything else is refused. The pid of a
started process comes from that process, which goes on only once the submitter
acknowledges it: a submitter that got no pid starts an interpreter itself, and a run
never gets two supervisors.

The first submit starts the launcher (detached, its environment only the key's variables)
and waits for it; it exits after ``RUNYARD_LAUNCHER_IDLE_SECONDS`` (600) without a request.
When anything goes wrong ``start`` logs why and returns None, and the caller starts an
interpreter as before. ``RUNYARD_LAUNCHER=0`` turns the launcher off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

ENV_SWITCH = "RUNYARD_LAUNCHER"
ENV_IDLE = "RUNYARD_LAUNCHER_IDLE_SECONDS"
ENV_FOLDER = "RUNYARD_LAUNCHER_DIR"
DEFAULT_IDLE_S = 600.0

#: what a supervisor, a pipeline driver and a sweep driver import as they run, imported once here
PRELOAD = ("runyard.compute._supervisor", "runyard.pipeline._driver", "runyard.hyperdrive._driver",
           "runyard.workspace", "runyard.store.sql", "runyard.store.checks", "runyard.store.schema",
           "sqlalchemy.dialects.sqlite", "runyard.environment", "runyard.snapshot", "runyard.run", "psutil",
           "ctypes", "encodings.cp437")

#: variables an interpreter reads when it starts (a forked process keeps the launcher's)
_KEY_PREFIXES = ("PYTHON", "LD_", "LC_")
_KEY_NAMES = ("LANG", "HOME")
_PACKAGE = Path(__file__).resolve().parents[1]
_PROTOCOL = 1
_MAX_REQUEST_BYTES = 1 << 22
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes
_MODULE = re.compile(r"runyard(\.[A-Za-z_]\w*)+")
_START_WAIT_S = 30.0  # a new launcher's imports, on a busy machine
_REPLY_WAIT_S = 30.0
_REQUEST_WAIT_S = 10.0
_GO_WAIT_S = 30.0
_LOCK_WAIT_S = 5.0
_MAX_LOG_BYTES = 1 << 20

log = logging.getLogger(__name__)


class Unavailable(Exception):
    """Nothing was started: the caller starts an interpreter."""


class _NoLauncher(Unavailable):
    """No launcher listens at the socket (none started yet, or one that ended)."""


class _Closed(_NoLauncher):
    """The launcher closed the connection before any process said its pid: one that was
    exiting, idle, as the request came."""


_launching = threading.Lock()


# -- the submitting side -------------------------------------------------------------------
def start(interpreter: str, module: str, argv: list[str], env: dict[str, str], cwd: str,
          log_path: str | os.PathLike) -> int | None:
    """Have this user's launcher for ``interpreter`` start ``module`` as ``__main__`` with
    ``argv``, environment ``env`` and working folder ``cwd``, its output appended to
    ``log_path``, in a session of its own; its pid. None (the reason logged) when the
    launcher is off or could not start it, and then nothing was started.

    >>> start(python, "runyard.compute._supervisor", [ws.address, run_id], env, cwd, log)  # doctest: +SKIP
    """
    if not enabled():
        return None
    try:
        folder = private_folder(create=True)
        name = launcher_name(interpreter, env)
        path = folder / f"{name}.sock"
        if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
            raise Unavailable(f"the socket path {path} is too long for a unix socket; set {ENV_FOLDER} "
                              f"to a shorter folder")
        request = {"kind": "start", "protocol": _PROTOCOL, "name": name, "module": module, "argv": list(argv),
                   "env": dict(env), "cwd": str(cwd), "log": str(log_path), "umask": _umask()}
        try:
            return _ask(path, request)
        except _NoLauncher:
            return _launch_and_ask(path, request, interpreter, env)
    except Unavailable as e:
        log.info("runyard: starting %s with a new interpreter: %s", module, e)
    except Exception as e:  # nothing was started (see _ask): the caller starts an interpreter
        log.warning("runyard: the launcher could not start %s (%s: %s); starting a new interpreter",
                    module, type(e).__name__, e)
    return None


def enabled() -> bool:
    """False when ``RUNYARD_LAUNCHER`` says off (0, false, no, off), or off Linux."""
    return (sys.platform.startswith("linux") and hasattr(socket, "SO_PEERCRED")
            and os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off"))


def folder() -> Path:
    """Where this user's launchers listen: ``RUNYARD_LAUNCHER_DIR``, else
    ``$XDG_RUNTIME_DIR/runyard``, else ``runyard-<uid>`` in the temp folder."""
    if os.environ.get(ENV_FOLDER):
        return Path(os.path.abspath(os.environ[ENV_FOLDER]))
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "runyard"
    return Path(tempfile.gettempdir()) / f"runyard-{os.geteuid()}"


def private_folder(where: Path | None = None, create: bool = False) -> Path:
    """``where`` (``folder()``) if it is a folder of this user that no one else may enter;
    ``Unavailable`` otherwise. ``create`` makes it (0700) when missing."""
    where = where or folder()
    if create:
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(where, 0o700)
        except FileExistsError:
            pass
    try:
        found = os.lstat(where)
    except FileNotFoundError as e:
        raise _NoLauncher(f"no launcher folder {where}") from e
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.geteuid() or found.st_mode & 0o077:
        log.warning("runyard: not using the launcher folder %s: it must be a folder of uid %d that only "
                    "its owner may enter (mode 0700), and it is %s of uid %d, mode %o", where, os.geteuid(),
                    "a folder" if stat.S_ISDIR(found.st_mode) else "not a folder", found.st_uid,
                    stat.S_IMODE(found.st_mode))
        raise Unavailable(f"{where} is not a private folder of this user")
    return where


def launcher_name(interpreter: str, env: dict[str, str]) -> str:
    """``<process>-<code>``: what the launcher's processes inherit from it, then the identity
    of the code they run (a change there makes the launcher stale)."""
    import resource
    limits = {name: resource.getrlimit(getattr(resource, name)) for name in sorted(dir(resource))
              if name.startswith("RLIMIT_")}
    process = {"python": interpreter, "package": str(_PACKAGE), "uid": os.geteuid(), "env": _key_env(env),
               "limits": limits, "cgroup": _read("/proc/self/cgroup"), "affinity": sorted(os.sched_getaffinity(0)),
               "nice": os.getpriority(os.PRIO_PROCESS, 0)}
    return f"{_digest(process)}-{code_identity()}"


def code_identity() -> str:
    """runyard's version, the newest mtime of its ``.py`` files and the mtime of
    site-packages (a package installed or removed), as a short digest."""
    from .. import __version__
    newest, folders = 0, [str(_PACKAGE)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        folders.append(entry.path)
                elif entry.name.endswith(".py"):
                    newest = max(newest, entry.stat(follow_symlinks=False).st_mtime_ns)
    sites = []
    for site in _site_packages():
        try:
            sites.append(os.stat(site).st_mtime_ns)
        except OSError:
            sites.append(None)
    return _digest([__version__, newest, sites])


def stop_launchers(where: Path | None = None) -> list[int]:
    """Ask every launcher listening in ``where`` (``folder()``) to exit; their pids.

    >>> stop_launchers()  # doctest: +SKIP
    """
    try:
        where = private_folder(where)
    except Unavailable:
        return []
    stopped = []
    for path in sorted(where.glob("*.sock")):
        pid = _stop(path)
        if pid:
            stopped.append(pid)
    return stopped


def _launch_and_ask(path: Path, request: dict[str, Any], interpreter: str, env: dict[str, str]) -> int:
    """Start the launcher ``path`` names and send it ``request`` once it listens."""
    with _launching:
        try:
            return _ask(path, request)  # another thread of this process started it meanwhile
        except _NoLauncher:
            pass
        launcher = _spawn(path, interpreter, env)
        deadline = time.monotonic() + _START_WAIT_S
        while True:
            try:
                return _ask(path, request)
            except _Closed:
                raise  # a launcher listens, and does not answer
            except _NoLauncher:
                # exit code 3: another launcher of the key is starting, and may still come up
                if time.monotonic() > deadline or launcher.returncode not in (None, 3):
                    raise _NoLauncher(f"the launcher (pid {launcher.pid}) did not answer; see "
                                      f"{path.with_suffix('.log')}") from None
                time.sleep(0.01)


def _spawn(path: Path, interpreter: str, env: dict[str, str]) -> subprocess.Popen:
    log_file = path.with_suffix(".log")
    try:
        if log_file.stat().st_size > _MAX_LOG_BYTES:
            log_file.unlink()
    except FileNotFoundError:
        pass
    launcher_env = _key_env(env)
    if os.environ.get(ENV_IDLE):
        launcher_env[ENV_IDLE] = os.environ[ENV_IDLE]
    with open(log_file, "ab") as output:
        launcher = subprocess.Popen(
            [interpreter, "-m", __name__, "serve", str(path.parent), path.stem],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            close_fds=True, env=launcher_env, cwd=str(path.parent))
    # reaped when it ends (no zombie, no ResourceWarning); a daemon thread never keeps this process alive
    threading.Thread(target=launcher.wait, name=f"runyard-reap-{launcher.pid}", daemon=True).start()
    return launcher


def _ask(path: Path, request: dict[str, Any]) -> int:
    """Send ``request`` to the launcher at ``path``; the pid of the process it started, once
    that process is told to go on. Any exception here means nothing was started."""
    try:
        found = os.lstat(path)
    except FileNotFoundError as e:
        raise _NoLauncher(f"no launcher at {path}") from e
    if not stat.S_ISSOCK(found.st_mode) or found.st_uid != os.geteuid():
        log.warning("runyard: not using %s: it is not a socket of uid %d", path, os.geteuid())
        raise Unavailable(f"{path} is not a socket of this user")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(_REPLY_WAIT_S)
        try:
            conn.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as e:
            raise _NoLauncher(f"no launcher listens at {path}") from e
        uid = _peer_uid(conn)
        if uid != os.geteuid():
            log.warning("runyard: not using %s: it is served by uid %d", path, uid)
            raise Unavailable(f"{path} is served by another user (uid {uid})")
        try:
            _send(conn, request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it read it all (too long): its answer says so
        try:
            reply = _receive_line(conn)
        except ConnectionResetError as e:
            raise _Closed("the launcher closed the connection without an answer") from e
        if "error" in reply:
            raise Unavailable(f"the launcher refused: {reply['error']}")
        pid = reply.get("pid")
        if not isinstance(pid, int) or pid <= 0:
            raise Unavailable(f"the launcher answered {reply!r}")
        conn.sendall(b"go\n")  # from here on the process runs: it exits, unstarted, without this
        return pid


def _stop(path: Path) -> int | None:
    """Ask the launcher at ``path`` to exit; its pid, or None if none answered."""
    try:
        found = os.lstat(path)
        if not stat.S_ISSOCK(found.st_mode) or found.st_uid != os.geteuid():
            return None
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(5)
            conn.connect(str(path))
            if _peer_uid(conn) != os.geteuid():
                return None
            _send(conn, {"kind": "stop", "protocol": _PROTOCOL, "name": path.stem})
            pid = _receive_line(conn).get("stopped")
            return pid if isinstance(pid, int) else None
    except (OSError, ValueError, Unavailable):
        return None


# -- the launcher ------------------------------------------------------------------------
def serve(where: Path, name: str) -> int:
    """The launcher's life: check that the code is still what ``name`` says, take the key's
    lock, import ``PRELOAD``, listen, stop stale launchers, then fork a process per request
    until idle for ``RUNYARD_LAUNCHER_IDLE_SECONDS``. Its exit code: 0, 2 when its code is
    stale, 3 when another launcher of its key holds the lock."""
    idle_s = float(os.environ.get(ENV_IDLE) or DEFAULT_IDLE_S)
    where = private_folder(where)
    code = name.rsplit("-", 1)[-1]
    if code_identity() != code:
        print(f"runyard launcher {name}: the code changed since it was asked for; exiting", flush=True)
        return 2
    lock_fd = _lock(where / f"{name}.lock")
    if lock_fd is None:
        print(f"runyard launcher {name}: another launcher of this key runs; exiting", flush=True)
        return 3
    started = time.monotonic()
    import importlib
    for module in PRELOAD:
        try:
            importlib.import_module(module)
        except Exception:  # what imports it fails as it would in a new interpreter; the others go on
            import traceback
            print(f"runyard launcher {name}: could not import {module}:", flush=True)
            traceback.print_exc()
    if code_identity() != code:  # edited while importing: what was imported may be either
        print(f"runyard launcher {name}: the code changed while importing; exiting", flush=True)
        return 2
    path = where / f"{name}.sock"
    path.unlink(missing_ok=True)  # one of a launcher that ended (we hold the key's lock)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(64)
    print(f"runyard launcher {name}: pid {os.getpid()}, ready after {time.monotonic() - started:.2f} s, "
          f"exits after {idle_s:g} s idle", flush=True)
    for sibling in where.glob(f"{name.rsplit('-', 1)[0]}-*.sock"):
        if sibling != path and _stop(sibling):
            print(f"runyard launcher {name}: stopped the stale launcher {sibling.stem}", flush=True)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps what we fork
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        deadline = time.monotonic() + idle_s
        while True:
            ready, _, _ = select.select([listener], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                print(f"runyard launcher {name}: idle for {idle_s:g} s; exiting", flush=True)
                return 0
            conn, _ = listener.accept()
            deadline = time.monotonic() + idle_s
            with conn:
                try:
                    outcome = _handle(conn, name, (listener.fileno(), lock_fd))
                except Exception:  # one bad connection does not end the launcher
                    import traceback
                    traceback.print_exc()
                    continue
                if outcome == "stop":
                    print(f"runyard launcher {name}: stopped on request", flush=True)
                    return 0
    finally:
        # while the lock is held: a launcher of this key may then start afresh. A launcher
        # that crashed leaves its log (the next one of its key appends to it) and lock.
        for leftover in (path, path.with_suffix(".log"), path.with_suffix(".lock")):
            leftover.unlink(missing_ok=True)


def _exit_on_sigterm(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)


def _lock(path: Path) -> int | None:
    """An open descriptor holding the exclusive lock ``path``, or None when another process
    kept it for ``_LOCK_WAIT_S`` (a launcher of the same key that is exiting may)."""
    import fcntl
    deadline = time.monotonic() + _LOCK_WAIT_S
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd  # (not a file that a launcher removed as it exited, holding it)
        except (BlockingIOError, FileNotFoundError):
            pass
        os.close(fd)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def _handle(conn: socket.socket, name: str, own_fds: tuple[int, ...]) -> str | None:
    """One request: refused (an error line), a stop ("stop"), or a forked process."""
    uid = _peer_uid(conn)
    if uid != os.geteuid():
        print(f"runyard launcher {name}: refused a connection of uid {uid}", flush=True)
        _reply(conn, {"error": f"uid {uid} may not use this launcher"})
        return None
    conn.settimeout(_REQUEST_WAIT_S)
    try:
        request = _receive(conn)
        problem = _invalid(request, name)
    except (OSError, ValueError) as e:
        problem = f"unreadable request: {e}"
    if problem:
        print(f"runyard launcher {name}: refused a request: {problem}", flush=True)
        _reply(conn, {"error": problem})
        return None
    if request["kind"] == "stop":
        _reply(conn, {"stopped": os.getpid()})
        return "stop"
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError as e:
        _reply(conn, {"error": f"fork failed: {e}"})
        return None
    if pid == 0:
        _become(conn, request, own_fds)
    return None


def _invalid(request: Any, name: str) -> str | None:
    """What is wrong with ``request``, or None."""
    if not isinstance(request, dict) or request.get("protocol") != _PROTOCOL:
        return f"not a runyard launcher request (protocol {_PROTOCOL})"
    if request.get("name") != name:
        return f"the request is for launcher {request.get('name')!r}, this is {name!r}"
    if request.get("kind") == "stop":
        return None
    if request.get("kind") != "start":
        return f"unknown kind {request.get('kind')!r}"
    module, argv, env = request.get("module"), request.get("argv"), request.get("env")
    if not isinstance(module, str) or not _MODULE.fullmatch(module):
        return f"module {module!r} is not a runyard module"
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return "argv must be a list of strings"
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) and k and "=" not in k
                                            and "\0" not in k + v for k, v in env.items()):
        return "env must map variable names to strings"
    for field in ("cwd", "log"):
        if not isinstance(request.get(field), str) or not os.path.isabs(request[field]):
            return f"{field} must be an absolute path"
    umask = request.get("umask")
    if umask is not None and (not isinstance(umask, int) or not 0 <= umask <= 0o777):
        return "umask must be an integer 0-0o777"
    return None


def _become(conn: socket.socket, request: dict[str, Any], own_fds: tuple[int, ...]) -> NoReturn:
    """In the forked process: say our pid, wait for the submitter's go, then be the process
    a new interpreter would have been. Never returns into the launcher's loop."""
    try:
        for fd in own_fds:
            os.close(fd)
        for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        os.setsid()
        conn.settimeout(_GO_WAIT_S)
        _reply(conn, {"pid": os.getpid()})
        if _receive_raw_line(conn) != b"go\n":
            os._exit(0)
        conn.close()
    except BaseException:
        os._exit(0)
    try:
        run_detached(request["module"], request["argv"], request["log"], request["cwd"], env=request["env"],
                     umask=request["umask"], path0=True)
    finally:
        os._exit(1)


def run_detached(module: str, argv: list[str], log_path: str, cwd: str, env: dict[str, str] | None = None,
                 umask: int | None = None, path0: bool = False) -> NoReturn:
    """In a forked process: run ``module`` as ``__main__`` with ``argv``, its output appended
    to ``log_path``, in ``cwd``, with ``env`` (None: the environment it has) and ``umask``;
    ``path0`` puts ``cwd`` first on ``sys.path``, as ``python -m`` does. Exits with the
    module's code."""
    code = 1
    try:
        import runpy
        if umask is not None:
            os.umask(umask)
        out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.closerange(3, 1 << 16)
        # whatever the parent made of sys.stdout (a capture, a buffer), ours is the log, encoded
        # as an interpreter's start set it up (PYTHONIOENCODING)
        encoding, errors = getattr(sys.__stdout__, "encoding", None), getattr(sys.__stdout__, "errors", None)
        sys.stdout = open(1, "w", buffering=1, closefd=False, encoding=encoding, errors=errors)
        sys.stderr = open(2, "w", buffering=1, closefd=False, encoding=encoding, errors="backslashreplace")
        os.chdir(cwd)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
            time.tzset()
            tempfile.tempdir = None
        if path0 and sys.path:
            sys.path[0] = os.getcwd()
        sys.argv = [module, *argv]
        # run afresh as __main__, as `python -m` would (its imports stay imported)
        sys.modules.pop(module, None)
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, int) and e.code is not None:
            print(e.code, file=sys.stderr)
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        try:
            _end_like_an_interpreter()
        finally:
            os._exit(code)


def _end_like_an_interpreter() -> None:
    """What an interpreter does as it ends, short of unwinding into its parent's frames: wait
    for non-daemon threads, run the ``atexit`` functions (a run's metric buffer flushes
    there), flush the output."""
    import atexit
    import threading
    try:
        threading._shutdown()  # type: ignore[attr-defined]
    finally:
        try:
            atexit._run_exitfuncs()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()


# -- both sides ----------------------------------------------------------------------------
def _key_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(env.items()) if k.startswith(_KEY_PREFIXES) or k in _KEY_NAMES}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


_sites: list[str] | None = None


def _site_packages() -> list[str]:
    global _sites
    if _sites is None:
        import sysconfig
        paths = sysconfig.get_paths()
        _sites = sorted({paths["purelib"], paths["platlib"]})
    return _sites


def _umask() -> int | None:
    """This process's umask, read where setting it to read it would race other threads."""
    status = _read("/proc/self/status") or ""
    found = re.search(r"^Umask:\s*([0-7]+)$", status, re.MULTILINE)
    return int(found.group(1), 8) if found else None


def _peer_uid(conn: socket.socket) -> int:
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                          struct.calcsize("3i")))
    return uid


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    conn.sendall(struct.pack(">I", len(body)) + body)


def _receive(conn: socket.socket) -> Any:
    size = struct.unpack(">I", _exactly(conn, 4))[0]
    if size > _MAX_REQUEST_BYTES:
        raise ValueError(f"a request of {size} bytes (at most {_MAX_REQUEST_BYTES})")
    return json.loads(_exactly(conn, size))


def _exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(min(size - len(data), 1 << 16))
        if not chunk:
            raise ValueError("the connection closed mid-request")
        data += chunk
    return data


def _reply(conn: socket.socket, message: dict[str, Any]) -> None:
    try:
        conn.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        pass  # the other side left; it falls back or gives up by itself


def _receive_raw_line(conn: socket.socket, limit: int = 4096) -> bytes:
    data = b""
    while not data.endswith(b"\n") and len(data) < limit:
        chunk = conn.recv(limit - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _receive_line(conn: socket.socket) -> dict[str, Any]:
    line = _receive_raw_line(conn)
    if not line.endswith(b"\n"):
        raise _Closed("the launcher closed the connection without an answer")
    reply = json.loads(line)
    if not isinstance(reply, dict):
        raise ValueError(f"the launcher answered {reply!r}")
    return reply


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"] and len(sys.argv) == 4:
        sys.exit(serve(Path(sys.argv[2]), sys.argv[3]))
    if sys.argv[1:2] == ["stop"] and len(sys.argv) <= 3:
        print(" ".join(map(str, stop_launchers(Path(sys.argv[2]) if len(sys.argv) == 3 else None))))
        sys.exit(0)
    sys.exit("usage: python -m runyard.compute._launcher serve FOLDER NAME | stop [FOLDER]")
