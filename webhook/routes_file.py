"""The routes file on disk: where it lives, watching it off the request path, saving it."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from webhook.routes import RoutesError, RoutingRules, parse_routes, render_routes

log = logging.getLogger(__name__)

ROUTES_FILENAME = "routes.toml"
# The console's QSettings organization and application are both "Switchboard", so on Linux its
# settings live in ~/.config/Switchboard/Switchboard.conf; routes.toml lives beside them.
CONFIG_DIR_NAME = "Switchboard"
OLD_CONFIG_DIR_NAME = "switchboard"  # where routes.toml lived before (a second, lower-case dir)
MAX_ROUTES_BYTES = 10_000_000  # 10 MB, about 200,000 routes; a bigger file is refused unread
WATCH_INTERVAL = 0.25  # seconds between two looks at the file (one stat each)
# A file changed this soon before it was read may change again with the same mtime and size.
_RACY_NS = 2_000_000_000
_MISSING = None
_UNKNOWN = (-1, -1, -1)  # the file is there but cannot be looked at (say, a locked directory)

Stamp = tuple[int, int, int]  # (mtime_ns, size, inode)
_watched: weakref.WeakSet[RoutesFile] = weakref.WeakSet()  # files whose watcher runs


class RoutesTooLarge(RoutesError):
    """A routes file over MAX_ROUTES_BYTES: refused before it is read."""


def config_dir() -> Path:
    """The directory the console keeps its settings in (QSettings), and routes.toml too."""
    return Path(platformdirs.user_config_dir(CONFIG_DIR_NAME))


def default_routes_path() -> Path:
    """routes.toml in the settings directory (it may not exist); an older file is moved there."""
    path = config_dir() / ROUTES_FILENAME
    old = Path(platformdirs.user_config_dir(OLD_CONFIG_DIR_NAME)) / ROUTES_FILENAME
    move_old_routes(old, path)
    return path


def move_old_routes(old: Path, new: Path) -> bool:
    """Move routes.toml from its former directory to new, never over a file there; True if moved.

    Where the file system ignores case the two paths are one file, and nothing moves.
    """
    try:
        if not old.is_file():
            return False
        if os.path.lexists(new):
            if not new.exists() or not os.path.samefile(old, new):
                log.warning("routes file %s is not used: %s is (it was there first)", old, new)
            return False
        new.parent.mkdir(parents=True, exist_ok=True)
        _move_without_overwrite(old, new)
    except FileExistsError:
        log.warning("routes file %s is not used: %s appeared meanwhile", old, new)
        return False
    except OSError as error:
        log.warning("could not move routes file %s to %s: %s", old, new, error)
        return False
    log.info("moved routes file %s to %s, beside the settings", old, new)
    with contextlib.suppress(OSError):
        old.parent.rmdir()  # only when nothing else is left in the old directory
    return True


def _move_without_overwrite(old: Path, new: Path) -> None:
    """Move old to new; FileExistsError if new exists (a hard link never replaces a file)."""
    try:
        os.link(old, new)
    except FileExistsError:
        raise
    except OSError:  # another file system, or one without hard links: copy, then link the copy
        handle, temporary = tempfile.mkstemp(prefix=".routes-", suffix=".toml", dir=new.parent)
        os.close(handle)
        try:
            shutil.copy2(old, temporary)
            try:
                os.link(temporary, new)
            except FileExistsError:
                raise
            except OSError:
                if os.path.lexists(new):
                    raise FileExistsError(new) from None
                os.replace(temporary, new)
        finally:
            Path(temporary).unlink(missing_ok=True)
    old.unlink()


def save_routes(path: str | os.PathLike[str], rules: RoutingRules) -> Path:
    """Write rules to path atomically (a webhook never reads half a file); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_routes(rules)
    handle, temporary = tempfile.mkstemp(prefix=".routes-", suffix=".toml", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _too_large(path: Path, size: int) -> RoutesTooLarge:
    problem = (
        f"is {size:,} bytes; a routes file may hold at most {MAX_ROUTES_BYTES // 1_000_000} MB "
        f"({MAX_ROUTES_BYTES:,} bytes, about 200,000 routes), so it was not read"
    )
    return RoutesTooLarge(problem, 0, "", str(path))


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, or RoutesError (too large or unreadable); never past the limit."""
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > MAX_ROUTES_BYTES:
                raise _too_large(path, size)
            data = stream.read(MAX_ROUTES_BYTES + 1)  # it may have grown since
    except OSError as error:
        raise RoutesError(f"cannot be read: {error}", 0, "", str(path)) from None
    if len(data) > MAX_ROUTES_BYTES:
        raise _too_large(path, len(data))
    return data


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RoutesError(f"is not UTF-8 text: {error}", 0, "", str(path)) from None


def read_routes(path: str | os.PathLike[str]) -> RoutingRules:
    """Parse one routes file; raises RoutesError (also for one that is too large or unreadable)."""
    path = Path(path)
    return parse_routes(_decode(_read_bytes(path), path), str(path))


def _summary(rules: RoutingRules) -> str:
    counts = (len(rules.routes), len(rules.codes), len(rules.callers))
    words = ("route(s)", "code(s)", "caller(s)")
    return ", ".join(f"{count} {word}" for count, word in zip(counts, words, strict=True))


@dataclass(frozen=True)
class _State:
    """What a RoutesFile serves; replaced as a whole, so a reader never sees half a change."""

    rules: RoutingRules
    error: str = ""
    exists: bool = False


class RoutesFile:
    """A routes file as the webhook uses it: watched off the request path, last good rules kept.

    check() reads and parses a changed file (blocking); start() runs it on a watcher thread every
    WATCH_INTERVAL seconds, so a request only reads `rules` and never waits for a file. The rules
    stay in force while a new version is read, when it is malformed, too large or unreadable, and
    when the file is deleted; an empty file clears them.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        on_change: Callable[[RoutesFile], object] | None = None,
        interval: float = WATCH_INTERVAL,
    ) -> None:
        self.path = Path(path)
        self.interval = interval
        self._on_change = on_change  # called after each change, on the thread that saw it
        self._lock = threading.Lock()  # one look at a time; a request never takes it
        self._thread_lock = threading.Lock()
        self._stamp: Stamp | None = _MISSING
        self._checked = False
        self._read_at = 0
        self._digest = b""  # of the bytes last parsed ("" when none)
        self._state = _State(RoutingRules())
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def rules(self) -> RoutingRules:
        """The rules in force: the last good ones (empty when the file never existed)."""
        return self._state.rules

    @property
    def error(self) -> str:
        """What is wrong with the file as it is now on disk, or '' when it is good or absent."""
        return self._state.error

    @property
    def exists(self) -> bool:
        """Whether the file existed at the last check."""
        return self._state.exists

    @property
    def reading(self) -> bool:
        """Whether a look at the file is under way (meanwhile `rules` are the ones in force)."""
        return self._lock.locked()

    @property
    def watching(self) -> bool:
        """Whether the watcher thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, look_first: bool = False) -> None:
        """Watch the file on a background thread until stop() (or until this object is dropped).

        look_first: look at once rather than after the first interval (for a file not read yet).
        """
        with self._thread_lock:
            if self.watching:
                return
            self._stopping = stopping = threading.Event()
            thread = threading.Thread(
                target=_watch,
                args=(weakref.ref(self), stopping, self.interval, look_first),
                name=f"routes-watcher-{self.path.name}",
                daemon=True,
            )
            weakref.finalize(self, stopping.set)
            self._thread = thread
            _watched.add(self)
        thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """End the watcher; returns within timeout even while a big file is being parsed."""
        with self._thread_lock:
            self._stopping.set()
            thread, self._thread = self._thread, None
            _watched.discard(self)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _after_fork(self) -> None:
        """In a forked child: fresh locks (a parent thread may have held one), a watcher again."""
        self._lock, self._thread_lock = threading.Lock(), threading.Lock()
        self._thread = None
        self.start()

    def check(self) -> bool:
        """Look at the file (one stat), reread it if it changed; True when rules or error changed.

        Blocking: a file near the size limit takes a second or two to parse. Meanwhile `rules`
        keeps answering with the rules in force.
        """
        with self._lock:
            changed = self._look()
            if changed and self._on_change is not None:
                self._on_change(self)
        return changed

    def _look(self) -> bool:
        stamp = self._stat()
        if self._checked and stamp == self._stamp and not self._racy(stamp):
            return False
        self._checked, self._stamp = True, stamp
        if stamp is _MISSING:
            return self._missing()
        return self._reread(stamp)

    def _stat(self) -> Stamp | None:
        try:
            info = self.path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return _MISSING
        except OSError:
            return _UNKNOWN  # reading it will say what is wrong
        return info.st_mtime_ns, info.st_size, info.st_ino

    def _racy(self, stamp: Stamp | None) -> bool:
        return stamp is not None and stamp[0] >= self._read_at - _RACY_NS

    def _missing(self) -> bool:
        state, self._digest = self._state, b""
        if state.rules.empty:
            self._state = _State(state.rules)
            return state != self._state
        problem = (
            f"{self.path} is missing; the last good rules ({_summary(state.rules)}) stay in force "
            "until it is back. To clear the routes, save an empty file instead."
        )
        log.warning("%s", problem)
        self._state = _State(state.rules, problem, exists=False)
        return True

    def _reread(self, stamp: Stamp) -> bool:
        self._read_at = time.time_ns()
        try:
            if stamp[1] > MAX_ROUTES_BYTES:
                raise _too_large(self.path, stamp[1])
            data = _read_bytes(self.path)
        except RoutesError as error:
            self._digest = b""
            return self._refuse(str(error))
        digest = hashlib.blake2b(data, digest_size=16).digest()
        if digest == self._digest:
            return False
        self._digest = digest
        try:
            rules = parse_routes(_decode(data, self.path), str(self.path))
        except RoutesError as error:
            return self._refuse(str(error))
        self._state = _State(rules, "", exists=True)
        log.info("routes loaded from %s: %s", self.path, _summary(rules))
        return True

    def _refuse(self, error: str) -> bool:
        if self._state.error == error and self._state.exists:
            return False
        log.warning("routes kept as they were: %s", error)
        self._state = _State(self._state.rules, error, exists=True)
        return True


def _watch_again_after_fork() -> None:
    """Threads do not survive fork: a child (say, a preloaded server worker) starts its own."""
    for routes in list(_watched):
        routes._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_watch_again_after_fork)


def _watch(
    ref: weakref.ref[RoutesFile], stopping: threading.Event, interval: float, look_first: bool
) -> None:
    """The watcher thread: look at the file every interval seconds until told to stop."""
    while not stopping.wait(0 if look_first else interval):
        look_first = False
        routes = ref()
        if routes is None:
            return
        try:
            routes.check()
        except Exception:  # a watcher that dies would leave the rules stale for good
            log.exception("routes file %s could not be checked", routes.path)
        del routes
