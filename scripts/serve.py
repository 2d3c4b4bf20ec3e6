"""Serve the web app and a Celery worker together, for `make run`.

One command for a coordinator trying the product: the worker uses the same
broker as the web process (the embedded filesystem broker unless
CELERY_BROKER_URL says otherwise), so optimizations run in the background
exactly as in production. Ctrl+C stops both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADDRESS = os.environ.get("DISPATCH_ADDRESS", "127.0.0.1:8000")


def _stop_on_signal(signum: int, frame: object) -> None:
    # `kill` or a closed terminal must stop the worker too, not orphan it.
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            "--pool=threads",
            "--concurrency=2",
            # Embedded beat (one process, so no second scheduler to coordinate): the
            # periodic work of CELERY_BEAT_SCHEDULE, the sweep that frees plans of dead
            # runs first (docs/OPERATIONS.md, "Periodic work").
            "--beat",
            f"--schedule={ROOT / 'var' / 'celerybeat-schedule'}",
        ],
        cwd=ROOT,
        env=env,
    )
    web = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", ADDRESS, "--noreload"], cwd=ROOT, env=env
    )
    print(f"\n  Serving on http://{ADDRESS}/  (admin at /admin/, API at /api/v1/)")
    print(f"  Readiness: http://{ADDRESS}/api/v1/health/ready/")
    print("  Background worker and beat running. Press Ctrl+C to stop.\n", flush=True)
    children = [worker, web]
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    failed = [child.args[0] for child in children if child.returncode not in (0, -15, None)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
