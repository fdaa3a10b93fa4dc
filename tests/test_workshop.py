"""`make workshop-server`: PostgreSQL + optuna-dashboard for a room, stopped by Ctrl-C."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from hpcourse import workshop
from hpcourse.workshop import INSTALL_HINT, free_port, port_open, server_binaries

REPO = Path(__file__).resolve().parents[1]


def _read_until(process: subprocess.Popen, lines: list[str], marker: str, timeout: float) -> str:
    """The server's output up to the line containing ``marker`` (read by a thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = "".join(lines)
        if marker in seen:
            return seen
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"no {marker!r} from the workshop server; it said:\n{''.join(lines)}")


def _collect(process: subprocess.Popen) -> list[str]:
    lines: list[str] = []
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")), daemon=True).start()
    return lines


@pytest.mark.skipif(server_binaries() is None, reason=INSTALL_HINT)
def test_workshop_server_starts_answers_http_and_stops_on_ctrl_c():
    import optuna

    from hpcourse.capstone import STORAGE_VAR

    folder = Path(tempfile.mkdtemp(prefix="hpcourse-workshop-test-"))
    db_port, web_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "hpcourse.workshop",
        "--folder",
        str(folder),
        "--db-port",
        str(db_port),
        "--dashboard-port",
        str(web_port),
    ]
    server = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = _collect(server)
    try:
        said = _read_until(server, lines, f"export {STORAGE_VAR}=", timeout=120)
        url = said.split(f"export {STORAGE_VAR}='")[1].split("'")[0]
        assert (
            url == f"postgresql+psycopg2://{workshop._server_user()}@127.0.0.1:{db_port}/hpcourse"
        )
        assert workshop.wait_for_http(f"http://127.0.0.1:{web_port}/", timeout=10) == 200
        study = optuna.create_study(study_name="room", storage=url)
        study.add_trial(optuna.trial.create_trial(value=0.5, params={}, distributions={}))
        assert optuna.get_all_study_names(url) == ["room"]
        server.send_signal(signal.SIGINT)  # what Ctrl-C sends
        server.wait(timeout=60)
        time.sleep(0.5)
        said = "".join(lines)
        assert server.returncode == 0, said
        assert "stopping the dashboard and the database" in said and "stopped." in said
        assert not port_open("127.0.0.1", db_port) and not port_open("127.0.0.1", web_port)
        assert (folder / "data" / "PG_VERSION").exists()  # the room's trials are kept
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        binaries = server_binaries()
        if binaries is not None and (folder / "data" / "postmaster.pid").exists():
            stop = [str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"]
            subprocess.run(workshop._as_server_user(stop), capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_without_postgresql_the_command_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(workshop, "server_binaries", lambda: None)
    assert workshop.main(["--db-port", "5999"]) == 2
    assert "apt-get install postgresql" in capsys.readouterr().err


def test_bad_ports_are_refused():
    with pytest.raises(ValueError, match="dashboard_port=0"):
        workshop.serve(dashboard_port=0)


def test_participant_url_uses_the_listening_address():
    url = "postgresql+psycopg2://postgres@127.0.0.1:5433/hpcourse"
    assert workshop.participant_url(url, "127.0.0.1") == url
    assert workshop.participant_url(url, "10.1.2.3") == url.replace("127.0.0.1", "10.1.2.3")
