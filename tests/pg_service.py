"""A PostgreSQL server for the test session: Debian's binaries, a cluster in a temp
folder, loopback only, started once and stopped at the end.

``python tests/pg_service.py serve FOLDER`` starts one for several pytest processes
(scripts/test_all.py does): it prints its URL, serves until SIGTERM, then stops it;
a session with ``RUNYARD_TEST_POSTGRES=FOLDER`` set uses that server
(``PostgresServer.attach``) instead of starting its own."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: apt-get install postgresql "
                           f"(scripts/install-system-deps.sh does it)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


class PostgresServer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()
        self.started = False

    @classmethod
    def attach(cls, folder: Path) -> "PostgresServer":
        """The server ``serve`` runs in ``folder``; ``stop`` leaves it running."""
        server = cls(folder)
        port_file = folder / "port"
        if not port_file.is_file():
            raise RuntimeError(f"no PostgreSQL served from {folder} (RUNYARD_TEST_POSTGRES): start one with "
                               f"`python tests/pg_service.py serve {folder}` or unset the variable")
        server.port = int(port_file.read_text())
        return server

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        subprocess.run(_as_postgres([_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]),
                       check=True, capture_output=True)
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
                                     "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                                           f"-c fsync=off -c max_connections=200",
                                     "-w", "start"]), check=True, capture_output=True)
        self.started = True
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not answer on port {self.port}; see {self.folder / 'log'}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import sqlalchemy as sa
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        if self.started:
            subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"]),
                           capture_output=True)
            self.started = False


def serve(folder: Path) -> None:
    import signal
    server = PostgresServer(folder)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    server.start()
    try:
        (folder / "port").write_text(str(server.port))
        print(server.url(), flush=True)
        while not stop:
            time.sleep(0.5)
    finally:
        server.stop()


if __name__ == "__main__":
    import sys
    if len(sys.argv) != 3 or sys.argv[1] != "serve":
        sys.exit("usage: python tests/pg_service.py serve FOLDER")
    serve(Path(sys.argv[2]))
