"""Read and bump change counters; the freshness rule every cache here relies on.

Why bump *after* commit, in a short transaction of its own
    Bumping inside the writer's transaction would lock the counter's row until
    that transaction ends: an order import holding the ``routes`` row for a
    minute would stall every field report, and two writers taking a counter
    and a job row in opposite orders would deadlock. After commit, a bump is
    one autocommitted ``UPDATE``.

Why that is still exact
    A reader reads the counters first and the data second, and stores what it
    built under the counters it read. If a write commits in between, the
    reader stored *newer* data under the *older* key, which is harmless: the
    bump that follows moves every reader to a new key. A reader can never see
    a bumped counter with data older than the write, because the bump happens
    after the commit. The only stale window is a process that dies between
    its commit and its bump; cache entries carry a lifetime (the callers'
    settings) that bounds it.

In a test wrapped in a transaction that is never committed, no bump happens:
tests of caching use ``django_db(transaction=True)``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from .models import ChangeCounter


def counters_read(names: Iterable[str], *, total_of: str | None = None) -> tuple[int, ...]:
    """The current values of ``names``, in order (0 for a counter never bumped), one query.

    With ``total_of``, one more value at the end: the sum of every counter
    whose name starts with that prefix. Counters only grow, so the sum grows
    whenever any of them is bumped: a stamp for "anything under this prefix
    changed" without listing the names.

    Plain SQL: it runs on every cached request, where building the same query
    through the ORM cost more than PostgreSQL took to answer it.
    """
    wanted = list(names)
    table = connection.ops.quote_name(ChangeCounter._meta.db_table)
    conditions, params = [], []
    if wanted:
        conditions.append(f"name IN ({', '.join(['%s'] * len(wanted))})")
        params += wanted
    if total_of is not None:
        conditions.append("name LIKE %s ESCAPE '\\'")
        params.append(total_of.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if not conditions:
        return ()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, value FROM {table} WHERE {' OR '.join(conditions)}", params)
        found = dict(cursor.fetchall())
    values = tuple(found.get(name, 0) for name in wanted)
    if total_of is None:
        return values
    return (*values, sum(v for name, v in found.items() if name.startswith(total_of)))


def counters_bump(names: Iterable[str]) -> None:
    """Increment ``names`` now, each once, creating missing rows (in sorted order: no deadlock)."""
    for name in sorted(set(names)):
        with transaction.atomic():
            if ChangeCounter.objects.filter(name=name).update(value=F("value") + 1):
                continue
            try:
                with transaction.atomic():
                    ChangeCounter.objects.create(name=name, value=1)
            except IntegrityError:  # created by a concurrent first bump: increment that
                ChangeCounter.objects.filter(name=name).update(value=F("value") + 1)


def bump_on_commit(names: Iterable[str]) -> None:
    """Increment ``names`` once the current transaction commits (at once outside one).

    Nothing happens if the transaction rolls back: the data did not change.
    A transaction that writes a hundred rows bumps each counter once: names
    gather in a set on the connection, and every call registers the same
    flush, which bumps and empties the set (the later flushes find it empty).
    A rollback leaves its names in the set, to be bumped with the next
    commit: one needless bump, never a missing one. A failing bump is logged,
    not raised: the write it follows has committed already, and the cache
    lifetimes bound how long readers may miss it.
    """
    wanted = set(names)
    if wanted:
        _pending().update(wanted)
        transaction.on_commit(flush_bumps, robust=True)


def _pending() -> set[str]:
    pending: set[str] | None = getattr(connection, "_stamps_pending", None)
    if pending is None:
        pending = set()
        connection._stamps_pending = pending  # type: ignore[attr-defined]
    return pending


def flush_bumps() -> None:
    """Bump every counter gathered so far on this connection (the commit hook)."""
    pending = _pending()
    if pending:
        names = set(pending)
        pending.clear()
        counters_bump(names)
