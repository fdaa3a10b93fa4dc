"""The instructor's side of a capstone workshop: one PostgreSQL database and an
``optuna-dashboard`` watching it, started with one command (``make workshop-server``).

Why a real database: every participant's notebook writes its runs and submissions into
shared Optuna studies at the same time (:mod:`hpcourse.capstone`), and a relational
server is the storage Optuna supports for many concurrent writers on many machines.

What :func:`serve` does:

1. start PostgreSQL from the Debian ``postgresql`` package's binaries
   (``/usr/lib/postgresql/*/bin``): ``initdb`` into a folder (kept, so a restarted server
   still has the morning's trials), listening on a port; as root, through
   ``runuser -u postgres`` because ``initdb`` and ``pg_ctl`` refuse to run as root;
2. start ``optuna-dashboard`` on that database;
3. print the URL participants set as ``HPCOURSE_WORKSHOP_STORAGE``;
4. on Ctrl-C, stop the dashboard, then the database (a clean, fast shutdown).

Tests use :func:`postgres_server` (a throwaway server in a temporary folder).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hpcourse.validation import check_number

INSTALL_HINT = (
    "PostgreSQL's server binaries (initdb, pg_ctl) were not found; install them with "
    "`apt-get install postgresql` (Debian/Ubuntu) to run the workshop server or this test."
)
DATABASE = "hpcourse"
DEFAULT_FOLDER = Path(tempfile.gettempdir()) / "hpcourse-workshop"
DEFAULT_DB_PORT = 5433
DEFAULT_DASHBOARD_PORT = 8080


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest version first), or None."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    """Whether something accepts connections on ``host:port``."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:  # initdb and pg_ctl refuse root
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _server_user() -> str:
    return "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")


def _run(command: list[str], timeout: float = 120) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout)
    except subprocess.CalledProcessError as err:
        raise RuntimeError(
            f"{Path(command[-1] if command[0] == 'runuser' else command[0]).name} failed: "
            f"{' '.join(command)}\n{err.stderr or err.stdout}"
        ) from err


@contextmanager
def postgres_server(
    folder: str | os.PathLike | None = None,
    *,
    port: int | None = None,
    listen: str = "127.0.0.1",
    fast_stop: bool = False,
) -> Iterator[str]:
    """Run a PostgreSQL server while the block runs; yield a SQLAlchemy URL to its
    database ``hpcourse``. The server is always stopped on the way out.

    Args:
        folder: where the database lives; kept afterwards and reused next time. Default:
            a temporary folder, removed afterwards (tests).
        port: the server's port (default: a free one).
        listen: the address to listen on; ``"0.0.0.0"`` lets the machines of the room's
            network connect (without a password: a workshop, not production).
        fast_stop: stop with a clean shutdown (keeps the data safe) instead of at once.
    """
    binaries = server_binaries()
    if binaries is None:
        raise FileNotFoundError(INSTALL_HINT)
    throwaway = folder is None
    root = Path(tempfile.mkdtemp(prefix="hpcourse-pg-") if folder is None else folder)
    root.mkdir(parents=True, exist_ok=True)
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    user = _server_user()
    port = free_port() if port is None else port
    check_number("port", port, low=1, high=65535, integer=True)
    if port_open("127.0.0.1", port):
        raise ValueError(f"port={port} is not allowed: something already listens on it.")
    fresh = not (data / "PG_VERSION").exists()
    started = False
    try:
        if fresh:
            initdb = [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", user]
            _run(_as_server_user([*initdb, "--no-sync"]))
        if listen != "127.0.0.1":  # the room's machines may connect (same subnet, no password)
            hba = data / "pg_hba.conf"
            rule = "host all all samenet trust\n"
            if rule not in hba.read_text(encoding="utf-8"):
                with open(hba, "a", encoding="utf-8") as f:
                    f.write(rule)
        options = f"-p {port} -k {sockets} -h {listen}" + (" -c fsync=off" if throwaway else "")
        pg_ctl = [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w"]
        _run(_as_server_user([*pg_ctl, "-l", str(root / "server.log"), "start"]))
        started = True
        if fresh:
            host = ["-h", "127.0.0.1", "-p", str(port), "-U", user]
            _run(_as_server_user([str(binaries / "createdb"), *host, DATABASE]))
        yield f"postgresql+psycopg2://{user}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            mode = "fast" if fast_stop else "immediate"
            stop = [str(binaries / "pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop"]
            subprocess.run(_as_server_user(stop), capture_output=True, timeout=60)
        if throwaway:
            shutil.rmtree(root, ignore_errors=True)


def dashboard_command(url: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """The command that starts ``optuna-dashboard`` on ``url`` (the venv's own copy)."""
    script = Path(sys.executable).with_name("optuna-dashboard")
    start = [str(script)] if script.exists() else [sys.executable, "-m", "optuna_dashboard"]
    return [*start, url, "--host", host, "--port", str(port), "--quiet"]


def wait_for_http(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> int:
    """Poll ``url`` until it answers; return the HTTP status (raises TimeoutError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the dashboard exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return int(answer.status)
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:g} s")


def participant_url(url: str, listen: str) -> str:
    """The URL as participants on other machines write it (this machine's address)."""
    if listen in ("127.0.0.1", "localhost"):
        return url
    address = listen
    if listen in ("0.0.0.0", "*"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.connect(("192.0.2.1", 9))  # no packet is sent: this picks the outgoing address
                address = s.getsockname()[0]
            except OSError:
                address = socket.gethostname()
    return url.replace("@127.0.0.1:", f"@{address}:")


def serve(
    folder: str | os.PathLike = DEFAULT_FOLDER,
    *,
    db_port: int = DEFAULT_DB_PORT,
    dashboard_port: int = DEFAULT_DASHBOARD_PORT,
    listen: str = "127.0.0.1",
) -> int:
    """Start the database and the dashboard, print what participants need, and wait for
    Ctrl-C (or SIGTERM); then stop both. Returns the exit code."""
    check_number("dashboard_port", dashboard_port, low=1, high=65535, integer=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too
    with postgres_server(folder, port=db_port, listen=listen, fast_stop=True) as url:
        from hpcourse.capstone import BOARD_STUDY, RUNS_STUDY, STORAGE_VAR
        from hpcourse.workers import storage_from_url

        storage_from_url(url)  # creates Optuna's tables once, before anyone connects
        # its own session: Ctrl-C reaches this process only, which then stops the dashboard
        # (no traceback from it) and the database, in that order
        dashboard = subprocess.Popen(
            dashboard_command(url, dashboard_port, listen),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_http(f"http://127.0.0.1:{dashboard_port}/", process=dashboard)
            shared = participant_url(url, listen)
            print(
                "\nhpcourse workshop server is running.\n"
                f"  database:  {url}  (data in {folder})\n"
                f"  dashboard: http://{'127.0.0.1' if listen == '127.0.0.1' else listen}:"
                f"{dashboard_port}/  (studies {RUNS_STUDY!r} and {BOARD_STUDY!r})\n"
                "Participants run, before starting JupyterLab:\n"
                f"  export {STORAGE_VAR}='{shared}'\n"
                "Press Ctrl-C to stop the dashboard and the database.",
                flush=True,
            )
            dashboard.wait()
            print(f"the dashboard exited (code {dashboard.returncode}); stopping.", flush=True)
            return 1
        except KeyboardInterrupt:
            print("\nstopping the dashboard and the database ...", flush=True)
            return 0
        finally:
            if dashboard.poll() is None:
                dashboard.terminate()
                try:
                    dashboard.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    dashboard.kill()
                    dashboard.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hpcourse.workshop",
        description="PostgreSQL + optuna-dashboard for a capstone workshop (Ctrl-C stops both).",
    )
    parser.add_argument("--folder", default=str(DEFAULT_FOLDER), help="where the database lives")
    parser.add_argument("--db-port", type=int, default=DEFAULT_DB_PORT)
    parser.add_argument("--dashboard-port", type=int, default=DEFAULT_DASHBOARD_PORT)
    parser.add_argument(
        "--listen",
        default="127.0.0.1",
        help="address to listen on; 0.0.0.0 lets the room's machines connect (no password)",
    )
    args = parser.parse_args(argv)
    if server_binaries() is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    try:
        return serve(
            args.folder,
            db_port=args.db_port,
            dashboard_port=args.dashboard_port,
            listen=args.listen,
        )
    except KeyboardInterrupt:  # Ctrl-C while starting up: everything is already stopped
        return 0
    finally:
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "INSTALL_HINT",
    "dashboard_command",
    "free_port",
    "main",
    "port_open",
    "postgres_server",
    "serve",
    "server_binaries",
    "wait_for_http",
]
