"""Operability: Prometheus metrics, structured JSON logs and request ids (issue 25).

A bottom-layer package: it imports no project package, so the domain code can
call :mod:`observability.metrics` to count what happened without an upward
dependency, and the web and Celery layers wire it up (settings, URLs, signals).
"""
