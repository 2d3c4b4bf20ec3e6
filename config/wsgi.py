"""WSGI entry point (``gunicorn -c config/gunicorn_conf.py config.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

from config.chunked import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Chunked request bodies (no Content-Length) reach Django whole, or are refused.
application = ChunkedBodyMiddleware(get_wsgi_application())
