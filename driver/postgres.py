"""A throw-away PostgreSQL cluster for tests and benchmarks: initdb in a temp dir, loopback
only, no fsync.

Uses the server binaries already installed (Debian's `postgresql` package puts them in
/usr/lib/postgresql/NN/bin; scripts/test.sh installs it when missing). PostgreSQL refuses to
run as root, so as root the cluster belongs to `nobody`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from driver.harness import free_port

REQUIRE_ENV = "NARRATOR_REQUIRE_POSTGRES"  # "1": a missing server fails the run, never skips
DATABASE = "narrator"  # the tests' database; each test gets a schema in it


class PostgresUnavailable(Exception):
    """This machine cannot run a test cluster; the message says why."""


def find_bindir() -> Path:
    """NARRATOR_PG_BINDIR if set (and only it), else the newest Debian install, else PATH."""
    if override := os.environ.get("NARRATOR_PG_BINDIR"):
        candidates = [Path(override)]
    else:
        candidates = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
        if found := shutil.which("initdb"):
            candidates.append(Path(found).resolve().parent)
    for bindir in candidates:
        if all((bindir / tool).exists() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return bindir
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl); install Debian's postgresql package"
    )


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int = field(default_factory=free_port)
    user: str = "narrator"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        return self.root / "sockets"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _as_owner(self, *command: str | Path) -> list[str]:
        args = [str(c) for c in command]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            return ["runuser", "-u", "nobody", "--", *args]
        return args

    def _run(self, *command: str | Path, timeout: float = 60) -> None:
        result = subprocess.run(
            self._as_owner(*command), capture_output=True, text=True, timeout=timeout, cwd="/"
        )
        if result.returncode != 0:
            log = (
                (self.root / "server.log").read_text(errors="replace")[-2000:]
                if (self.root / "server.log").exists()
                else ""
            )
            raise PostgresUnavailable(
                f"{Path(str(command[0])).name} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-1500:]}\n{log}"
            )

    def init(self) -> None:
        self.sockets.mkdir(parents=True)
        if os.geteuid() == 0:
            for path in (self.root, self.sockets):
                shutil.chown(path, "nobody", "nogroup")
        self._run(
            self.bindir / "initdb",
            "-D",
            self.data,
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.sockets}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
            "log_min_messages": "warning",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        self._run(
            self.bindir / "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(PostgresUnavailable, subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Runs one statement with psql (usable from sync fixtures); returns its output."""
        result = subprocess.run(
            [
                self.bindir / "psql",
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
                self.url(database),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def new_url(self) -> str:
        """The URL of a new, empty place for the bot's tables: its own schema (CREATE DATABASE
        costs half a second; a schema, a few milliseconds). asyncpg passes the search_path in
        the URL on to the server."""
        schema = f"t_{uuid.uuid4().hex[:12]}"
        self.sql(f"CREATE SCHEMA {schema}", DATABASE)
        return f"{self.url(DATABASE)}?search_path={schema}"


def start_server() -> PostgresServer:
    bindir = find_bindir()
    # As root the cluster runs as nobody, who must reach its folder: /tmp, not a private TMPDIR.
    parent = "/tmp" if os.geteuid() == 0 and Path("/tmp").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix="narrator-pg-", dir=parent))
    server = PostgresServer(bindir, root)
    try:
        server.init()
        server.start()
        server.sql(f"CREATE DATABASE {DATABASE}")
    except BaseException:
        server.destroy()
        raise
    return server
