"""The routes file on disk: where it lives, reloading it when it changes, saving it atomically."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import platformdirs

from webhook.routes import RoutesError, RoutingRules, parse_routes, render_routes

log = logging.getLogger(__name__)

ROUTES_FILENAME = "routes.toml"
# A file changed this soon before it was read may change again with the same mtime and size.
_RACY_NS = 2_000_000_000


def default_routes_path() -> Path:
    """routes.toml in the user's config directory (it may not exist)."""
    return Path(platformdirs.user_config_dir("switchboard")) / ROUTES_FILENAME


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


def read_routes(path: str | os.PathLike[str]) -> RoutingRules:
    """Parse one routes file; raises RoutesError (also for a file that cannot be read)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RoutesError(f"cannot be read: {error}", 1, "", str(path)) from None
    return parse_routes(text, str(path))


class RoutesFile:
    """A routes file as the webhook uses it: reread when it changes, last good rules kept."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._checked = False
        self._read_at = 0
        self._text: str | None = None
        self._rules = RoutingRules()
        self._error = ""

    @property
    def rules(self) -> RoutingRules:
        """The rules in force: the last good ones (empty when the file does not exist)."""
        return self._rules

    @property
    def error(self) -> str:
        """What is wrong with the file as it is now on disk, or '' when it is good or absent."""
        return self._error

    @property
    def exists(self) -> bool:
        """Whether the file existed at the last check."""
        return self._stamp is not None

    def check(self) -> bool:
        """Look at the file (one stat) and reread it if it changed; True when it was reread."""
        try:
            info = self.path.stat()
            stamp: tuple[int, int, int] | None = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            stamp = None
        with self._lock:
            if self._checked and stamp == self._stamp and not self._racy(stamp):
                return False
            self._checked, self._stamp = True, stamp
            if stamp is None:
                changed = self._text is not None or bool(self._error)
                self._text, self._rules, self._error = None, RoutingRules(), ""
                return changed
            return self._reread()

    def _racy(self, stamp: tuple[int, int, int] | None) -> bool:
        return stamp is not None and stamp[0] >= self._read_at - _RACY_NS

    def _reread(self) -> bool:
        self._read_at = time.time_ns()
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self._text = None
            self._error = f"{self.path}: cannot be read: {error}"
            log.warning("routes kept as they were: %s", self._error)
            return True
        if text == self._text:
            return False
        self._text = text
        try:
            self._rules = parse_routes(text, str(self.path))
        except RoutesError as error:
            self._error = str(error)
            log.warning("routes kept as they were: %s", self._error)
        else:
            self._error = ""
            log.info("routes loaded from %s: %d route(s)", self.path, len(self._rules.routes))
        return True
