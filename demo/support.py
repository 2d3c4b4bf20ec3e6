"""The support desk's part of the demo: a search index and a few weeks of calls.

Called by ``manage.py seed_demo`` after :func:`demo.build.build_demo`, with
the same seed and week, so ``make run`` shows a desk with history: one
building that keeps calling (the recurring-issue list), calls isolated to
either side of the media converter, and amendments. Like the rest of the
demo it is deterministic: its own ``random.Random`` and times anchored on
``week_start`` (all of them before ``week_start - 7 days``, so never in
the future), never on "now". It books no maintenance job, so the planning
week of the demo stays exactly as :mod:`demo.build` built it.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from accounts.models import Role, User
from sites.models import ContractStatus, Site
from support.inbox import handoffs_backfill
from support.indexing import site_search_reindex_all
from support.models import Call, CallAmendment, CallCategory, FaultIsolation, HandoffTeam
from support.services import calls_purge

TOKYO = ZoneInfo("Asia/Tokyo")

#: (category, fault isolation, hand-off, what the caller said and what was checked)
_CALLS: tuple[tuple[str, str, str, str], ...] = (
    (
        CallCategory.NO_CONNECTION,
        FaultIsolation.CARRIER_SIDE,
        HandoffTeam.FIELD_MAINTENANCE,
        "朝から全くつながらない。MC の LOS ランプが赤点灯、電源再投入でも復旧せず。"
        "お客様ルーターは正常。回線側の断と判断。",
    ),
    (
        CallCategory.INTERMITTENT,
        FaultIsolation.UNKNOWN,
        HandoffTeam.NETWORK_OPERATIONS,
        "1 日に数回、数分間切れる。切断時刻をお客様に記録していただくよう依頼。"
        "局側のログ確認をネットワーク運用へ依頼。",
    ),
    (
        CallCategory.SLOW,
        FaultIsolation.CUSTOMER_SIDE,
        HandoffTeam.NONE,
        "夕方に遅い。MC 直結の PC では 900Mbps 出ることを確認。"
        "お客様の無線 LAN ルーターが原因と説明し、機器の更新をご案内。",
    ),
    (
        CallCategory.EQUIPMENT,
        FaultIsolation.CARRIER_SIDE,
        HandoffTeam.FIELD_MAINTENANCE,
        "MC の電源ランプが点滅を繰り返す。電源アダプタの不良の疑い。交換のため訪問を調整。",
    ),
    (
        CallCategory.CONFIGURATION,
        FaultIsolation.CUSTOMER_SIDE,
        HandoffTeam.NONE,
        "固定 IP の設定方法の問い合わせ。設定値を口頭でご案内し、疎通を確認して終了。",
    ),
    (
        CallCategory.WORK_REQUEST,
        FaultIsolation.UNKNOWN,
        HandoffTeam.SALES,
        "来月フロア移転予定。MC の移設が必要か確認したいとのこと。営業担当から折り返し。",
    ),
)

_RECURRING = (
    "また切れた。先週と同じ症状で、MC の LINK ランプが消灯。",
    "本日 3 回目の切断。EPS 内の配線を業者が触ったかもしれないとのこと。",
    "切断が続いている。前回の受付で手配予定の訪問日を確認したい。",
)


def _moment(rng: random.Random, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(
        day, dt.time(rng.randint(9, 19), rng.choice((0, 12, 25, 41, 53))), TOKYO
    )


def build_support_demo(*, seed: int, week_start: dt.date) -> dict[str, int]:
    """Index every demo site and log a few weeks of calls; returns the counts for the summary."""
    rng = random.Random(seed * 104_729 + 8)
    indexed = site_search_reindex_all()
    operator = User.objects.filter(role=Role.SUPPORT).order_by("username").first()
    sites = list(
        Site.objects.filter(
            contracts__status=ContractStatus.ACTIVE, construction_records__isnull=False
        )
        .distinct()
        .prefetch_related("contracts__customer")
        .order_by("address")
    )
    if operator is None or not sites:
        return {"sites indexed for support": indexed, "support calls": 0}
    first_day = week_start - dt.timedelta(days=21)
    history_days = [first_day + dt.timedelta(days=n) for n in range(14)]
    chosen = rng.sample(sites, k=min(len(sites), len(_CALLS) + 1))
    calls: list[Call] = []

    def call(site: Site, day: dt.date, category: str, fault: str, handoff: str, text: str) -> Call:
        contract = min(site.contracts.all(), key=lambda c: c.contract_id)
        started = _moment(rng, day)
        follow_up = handoff in (HandoffTeam.FIELD_MAINTENANCE, HandoffTeam.SALES)
        return Call(
            site=site,
            contract=contract,
            operator=operator,
            started_at=started,
            created_at=started + dt.timedelta(minutes=rng.randint(4, 15)),
            caller_name=contract.customer.contact_person or contract.customer.name,
            caller_phone=contract.customer.phone,
            category=category,
            fault_isolation=fault,
            description=text,
            handoff_team=handoff,
            follow_up_needed=follow_up,
            follow_up_due=day + dt.timedelta(days=2) if follow_up else None,
        )

    for site, (category, fault, handoff, text) in zip(chosen[1:], _CALLS, strict=False):
        calls.append(call(site, rng.choice(history_days), category, fault, handoff, text))
    recurring_site = chosen[0]
    for number, text in enumerate(_RECURRING):
        day = history_days[3 + 4 * number]
        calls.append(
            call(
                recurring_site,
                day,
                CallCategory.INTERMITTENT,
                FaultIsolation.CARRIER_SIDE if number else FaultIsolation.UNKNOWN,
                HandoffTeam.NETWORK_OPERATIONS,
                text,
            )
        )
    calls = Call.objects.bulk_create(calls)
    amendments = [
        CallAmendment(
            call=calls[0],
            author=operator,
            created_at=calls[0].created_at + dt.timedelta(hours=2),
            text="折り返し時に確認：お客様側の停電が原因で MC が落ちていた。回線側の故障ではない。",
            corrections={"fault_isolation": FaultIsolation.CUSTOMER_SIDE},
        ),
        CallAmendment(
            call=calls[-1],
            author=operator,
            created_at=calls[-1].created_at + dt.timedelta(minutes=30),
            text="追記：切断時刻は 10:12、13:40、16:05（お客様記録）。",
            corrections={},
        ),
    ]
    CallAmendment.objects.bulk_create(amendments)
    handoffs_backfill()  # bulk-created calls: their hand-offs reach the teams' inboxes too
    return {
        "sites indexed for support": indexed,
        "support calls": len(calls),
        "call amendments": len(amendments),
    }


def reset_support_demo() -> None:
    """Remove the calls before the demo's sites go (calls are otherwise immutable)."""
    if Call.objects.exists():
        calls_purge(reason="seed_demo --reset")
