"""A throwaway PostgreSQL server in a temporary directory: for tests, benchmarks and demos.

PostgreSQL refuses to run as root, so when this process is root the server runs as the
`postgres` user that Debian's package creates (through runuser). It listens on 127.0.0.1 and on
a Unix socket inside its own directory, and everything it wrote goes when it stops.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

ENV_BIN = "SWITCHBOARD_PG_BIN"  # a directory holding initdb and pg_ctl, to use before any other
RUN_AS = "postgres"  # the unprivileged user the server runs as when we are root
INSTALL_HINT = (
    "PostgreSQL's server programs (initdb, pg_ctl) were not found. On Debian or Ubuntu: "
    "`sudo apt-get install postgresql`; on macOS: `brew install postgresql`; elsewhere install "
    f"PostgreSQL 13 or newer and put its bin directory on PATH, or set {ENV_BIN} to it."
)
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections


class PostgresMissing(RuntimeError):
    """PostgreSQL's server programs are not installed (the message says how to install them)."""


class PostgresFailed(RuntimeError):
    """The throwaway server could not be set up or started; the message holds its log."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name) or ["0"])


def find_bin_dir() -> Path:
    """The directory of initdb and pg_ctl: $SWITCHBOARD_PG_BIN, PATH, or Debian's newest."""
    candidates: list[Path] = []
    if os.environ.get(ENV_BIN):
        candidates.append(Path(os.environ[ENV_BIN]))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    candidates += [*debian, Path("/usr/local/pgsql/bin")]
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PostgresMissing(INSTALL_HINT)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class LocalPostgres:
    """One PostgreSQL server in a temporary directory; start() it, url() to reach it, stop()."""

    def __init__(self, port: int = 0, user: str = "switchboard") -> None:
        self.bin_dir = find_bin_dir()
        self.port = port
        self.user = user
        self.password = secrets.token_urlsafe(16)
        self.root: Path | None = None
        self._run_as: pwd.struct_passwd | None = None

    @property
    def data_dir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    def url(self, database: str = "postgres", password: bool = True) -> str:
        """A postgresql:// URL for one database of this server (over TCP on 127.0.0.1)."""
        secret = f":{quote(self.password, safe='')}" if password else ""
        return f"postgresql://{self.user}{secret}@127.0.0.1:{self.port}/{database}"

    def start(self) -> LocalPostgres:
        """Create the cluster (first time) and start the server; PostgresFailed if it cannot."""
        if self.root is None:
            self._initdb()
        if not self.port:
            self.port = free_port()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=300 "
            "-c shared_buffers=64MB"
        )
        try:
            self._run(
                "pg_ctl", "start", "-w", "-t", str(START_TIMEOUT), "-D", str(self.data_dir),
                "-l", str(self.log_file), "-o", options,
            )  # fmt: skip
        except PostgresFailed as error:
            raise PostgresFailed(f"{error}\n{self.log_tail()}") from None
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server ("fast" rolls back sessions; "immediate" is like a crash)."""
        if self.root is None or not (self.data_dir / "postmaster.pid").exists():
            return
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data_dir))

    def close(self) -> None:
        """Stop the server and delete its directory."""
        with contextlib.suppress(PostgresFailed):
            self.stop("immediate")
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server logged (for error messages)."""
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"not a plain database name: {name!r}")
        self._psql(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'")
        return self.url(name)

    # -- on the machine --------------------------------------------------------------------------

    def _initdb(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="switchboard-pg-"))
        if os.geteuid() == 0:
            try:
                self._run_as = pwd.getpwnam(RUN_AS)
            except KeyError:
                raise PostgresFailed(
                    f"PostgreSQL refuses to run as root and there is no {RUN_AS!r} user to run "
                    "it as (Debian's postgresql package creates one)."
                ) from None
            os.chown(self.root, self._run_as.pw_uid, self._run_as.pw_gid)
        password_file = self.root / "password"
        password_file.write_text(self.password + "\n")
        if self._run_as is not None:
            os.chown(password_file, self._run_as.pw_uid, self._run_as.pw_gid)
        password_file.chmod(0o600)
        try:
            self._run(
                "initdb", "-D", str(self.data_dir), "-U", self.user, f"--pwfile={password_file}",
                "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
        finally:
            password_file.unlink(missing_ok=True)

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / program), *args]
        if self._run_as is not None:
            return ["runuser", "-u", self._run_as.pw_name, "--", *command]
        return command

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            self._command(program, *args),
            capture_output=True,
            text=True,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise PostgresFailed(f"{program} failed (exit {result.returncode}): {output}")

    def _psql(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql)
