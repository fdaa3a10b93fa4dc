"""A real PostgreSQL server for the tests that need one: started in a temporary folder on
a free port of 127.0.0.1, and always stopped.

It uses the binaries of Debian's ``postgresql`` package (``.ci/run`` installs it). As root
(CI machines often are), ``initdb`` and ``pg_ctl`` refuse to run, so they run as the
``postgres`` user through ``runuser``. Where the binaries are missing, tests that need the
server are skipped with a message that says how to install it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL's server binaries (initdb, pg_ctl) were not found; install them with "
    "`apt-get install postgresql` (Debian/Ubuntu) to run this test."
)


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None."""
    for pattern in ("/usr/lib/postgresql/*/bin",):
        for folder in sorted(glob.glob(pattern), reverse=True):
            if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
                return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:  # initdb and pg_ctl refuse root
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway server; yield a SQLAlchemy URL to its database ``hpcourse``."""
    binaries = server_binaries()
    if binaries is None:
        raise FileNotFoundError(INSTALL_HINT)
    folder = Path(tempfile.mkdtemp(prefix="hpcourse-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    started = False
    try:
        subprocess.run(
            _as_server_user(
                [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "--no-sync"]
            ),
            **run,
        )
        options = f"-p {port} -k {sockets} -h 127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_server_user(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-w",
                    "-l",
                    str(folder / "server.log"),
                    "start",
                ]
            ),
            **run,
        )
        started = True
        subprocess.run(
            _as_server_user(
                [
                    str(binaries / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    user,
                    "hpcourse",
                ]
            ),
            **run,
        )
        yield f"postgresql+psycopg2://{user}@127.0.0.1:{port}/hpcourse"
    finally:
        if started:
            subprocess.run(
                _as_server_user(
                    [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
                ),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(folder, ignore_errors=True)
