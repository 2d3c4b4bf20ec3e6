"""How many Celery messages wait in a queue, asked of the broker itself.

Only the two brokers this service runs on: Redis (production) and kombu's
filesystem transport (the embedded default). Both are read directly rather
than through a kombu connection, so a scrape costs one round trip, opens no
channel, and cannot declare or consume anything by accident.
"""

from __future__ import annotations

from pathlib import Path

#: kombu's Redis transport keeps a queue with priorities as one list per step:
#: ``celery`` for priority 0, then ``celery\x06\x163`` and so on (kombu.transport.redis).
_REDIS_PRIORITY_SEPARATOR = "\x06\x16"
_REDIS_PRIORITY_STEPS = (3, 6, 9)
#: Seconds: a scrape waits this long at most for Redis before reporting -1.
REDIS_TIMEOUT_S = 1.0


class UnsupportedBroker(ValueError):
    """A broker whose queue length this module cannot read."""


def queue_depth(broker_url: str, queue: str) -> int:
    """Messages waiting in ``queue`` (not those a worker has taken and not yet acknowledged)."""
    if broker_url.startswith(("redis://", "rediss://")):
        return _redis_depth(broker_url, queue)
    if broker_url.startswith("filesystem://"):
        return _filesystem_depth(_filesystem_folder(), queue)
    raise UnsupportedBroker(broker_url.split("://", 1)[0])


def _redis_depth(broker_url: str, queue: str) -> int:
    import redis

    client = redis.Redis.from_url(
        broker_url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )
    try:
        names = [queue] + [f"{queue}{_REDIS_PRIORITY_SEPARATOR}{p}" for p in _REDIS_PRIORITY_STEPS]
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.llen(name)
        return sum(int(n) for n in pipe.execute())
    finally:
        client.close()


def _filesystem_folder() -> Path:
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    return Path(options["data_folder_in"])


def _filesystem_depth(folder: Path, queue: str) -> int:
    """Files named ``<time>_<uuid>.<queue>.msg`` (kombu.transport.filesystem)."""
    suffix = f"{queue}.msg"
    return sum(1 for path in folder.iterdir() if path.name.partition(".")[2] == suffix)
