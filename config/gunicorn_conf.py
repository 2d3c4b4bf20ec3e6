"""gunicorn settings for production: ``gunicorn -c config/gunicorn_conf.py config.wsgi``.

Defaults for one web machine behind a TLS proxy; each can be changed through the
environment variables below, or on the command line (``--workers 8``), which wins.

- ``GUNICORN_BIND`` (``0.0.0.0:8000``): where to listen.
- ``WEB_CONCURRENCY`` (4): worker processes. Sync workers serve one request each, so
  this is how many requests run at once; about 2 * cores + 1 for this app.
- ``GUNICORN_TIMEOUT`` (30 s): a worker silent this long is killed and replaced; the
  long work (optimization) runs in Celery, never in a request.
- ``GUNICORN_MAX_REQUESTS`` (20000, with jitter): a worker is recycled after this
  many requests, so a slow leak never grows without bound. At the morning rush a
  worker serves about 100 requests a second; with the former 1000 each one was
  replaced every ten seconds, and the load test lost a third of its throughput
  and timed requests out while new workers started (``docs/BENCHMARKS.md``).
- ``GUNICORN_ACCESSLOG`` (unset): gunicorn's own access log, e.g. ``-`` for
  stdout. Off by default: the application already logs every request as JSON
  with its request id, user and duration (``observability.middleware``).

The application is loaded once, in the master, before the workers are forked
(``preload_app``): a recycled worker starts in milliseconds instead of importing
Django again under load, and the workers share the imported code's memory.
- ``FORWARDED_ALLOW_IPS`` (gunicorn's own, ``127.0.0.1,::1``): the proxies whose
  X-Forwarded-Proto gunicorn believes.

The ``Server`` header says ``SERVER_HEADER``, not "gunicorn": a probe learns nothing
of the server software or its version. gunicorn 27 writes ``Server: gunicorn`` from
``gunicorn.http.wsgi.SERVER`` (HTTP/1 and HTTP/2 alike) and passes ``gunicorn/27.0.1``
to the app as ``SERVER_SOFTWARE``; both are module globals read per response, and
this file runs in the master before it forks the workers, so replacing them here
reaches every worker. ``tests/reliability/test_gunicorn_headers.py`` checks the
header on a real server, so an upgrade that moves them fails there.
"""

from __future__ import annotations

import os

import gunicorn
import gunicorn.http.wsgi

SERVER_HEADER = "web"


def hide_server_software() -> None:
    """Replace gunicorn's name and version wherever it would reach a client."""
    for module in (gunicorn, gunicorn.http.wsgi):
        module.SERVER = SERVER_HEADER
        module.SERVER_SOFTWARE = SERVER_HEADER


hide_server_software()

wsgi_app = "config.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY") or 4)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5  # behind a proxy that reuses connections
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 20000)
max_requests_jitter = max_requests // 10
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
# The runtime control socket ($HOME/.gunicorn/gunicorn.ctl) is not used here, and two
# instances on one host would fight over its path.
control_socket_disable = True


def child_exit(server: object, worker: object) -> None:
    """A dead worker's metric files stop counting (``PROMETHEUS_MULTIPROC_DIR`` mode only).

    With several gunicorn workers, each writes its metrics to files in that
    directory and a scrape adds them up; a worker that exited must be marked,
    or its gauges would be reported forever.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
