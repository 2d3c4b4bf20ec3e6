"""The Celery application.

With no ``CELERY_BROKER_URL`` the broker is kombu's *filesystem* transport in
``var/broker/``: a real, asynchronous queue shared by the web process and a
``celery worker`` process with no server to install (the embedded default of
``make run``). Production points ``CELERY_BROKER_URL`` at Redis.
"""

import os

from celery import Celery

from observability import tasks_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dispatch_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Request ids from the web request into the task's logs; worker logs stay JSON (issue 25).
tasks_context.connect()
