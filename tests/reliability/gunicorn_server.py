"""A real gunicorn in a subprocess: production settings (DEBUG=0), our gunicorn config,
its own SQLite file and broker folder, on a port the OS picks.

The server cannot see a test's transaction, so what it needs in the database it
migrates for itself (``migrate=True``).
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "config/gunicorn_conf.py"
STARTUP_TIMEOUT_S = 90.0


def production_env(var_dir: Path) -> dict[str, str]:
    """The environment of a production process, with everything it writes in ``var_dir``."""
    keep = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "SESSION_", "CSRF_", "GUNICORN_"))
        and key
        not in {
            "DJANGO_SETTINGS_MODULE",
            "DATABASE_URL",
            "CACHE_URL",
            "CELERY_BROKER_URL",
            "WEB_CONCURRENCY",
            "FORWARDED_ALLOW_IPS",
        }
    }
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "kN3v9-q2Zr8xWm4tLp7sYb1cHd6fJg0aEu5iOw2yTq9rVx3zMn8kBj4hGf7dSa1P",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DISPATCH_VAR_DIR": str(var_dir),
        # The test speaks plain http to the socket; production's proxy terminates TLS.
        "SECURE_SSL_REDIRECT": "0",
    }


@dataclass(frozen=True)
class Server:
    port: int
    log: Path

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def get(self, path: str) -> http.client.HTTPResponse:
        conn = self.connection()
        conn.request("GET", path)
        return conn.getresponse()

    def answers(self) -> bool:
        try:
            response = self.get("/api/v1/health/")
            response.read()
        except OSError:
            return False
        return response.status == 200


@contextmanager
def gunicorn_server(
    var_dir: Path, *, migrate: bool = False, with_config: bool = True
) -> Iterator[Server]:
    """Serve ``config.wsgi`` under gunicorn until the block ends (one sync worker)."""
    env = production_env(var_dir)
    if migrate:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    options = ["-c", CONFIG] if with_config else []
    log = var_dir / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                *options,
                "--bind",
                "127.0.0.1:0",
                "--workers",
                "1",
                "--no-control-socket",
                "config.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        ports: list[int] = []

        def listening() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()}")
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())
            if found:
                ports.append(int(found.group(1)))
            return bool(found)

        assert wait_until(listening), f"gunicorn did not start:\n{log.read_text()}"
        server = Server(port=ports[0], log=log)
        assert wait_until(server.answers), f"gunicorn did not answer:\n{log.read_text()}"
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
