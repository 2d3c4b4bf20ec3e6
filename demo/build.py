"""A realistic, deterministic Tokyo-area demo dataset for the coming week.

Why a builder of its own: ``make run`` must show a coordinator a week that
looks like the real thing (buildings in the 23 wards and the nearby cities,
partner companies with crews, surveys and permissions gating jobs, as-built
notes for support to read), and the test suite must be able to rebuild exactly
the same data. So every value comes from one seeded ``random.Random`` drawn in
a fixed order, every collection is a tuple or a list, and the only notion of
time is the explicit ``week_start`` (never "now").

Time anchors, all derived from ``week_start`` (a Monday, Asia/Tokyo):

* the **planning week** is ``week_start`` .. ``week_start + 5`` (Mon-Sat);
* all **history** (orders, surveys, permissions, status changes, field work)
  ends before ``history_until = week_start - 7 days``. With the default week
  start (the next Monday) that moment is never in the future, whatever
  weekday the seed runs on, so no status change is dated after "now";
* **finished field work** happened in the week that starts
  ``week_start - 14 days``.

Job histories are written as ``JobStatusChange`` rows in bulk rather than by
calling :func:`dispatch.services.job_transition` for every step, because that
service stamps each step with ``timezone.now()``: the history would depend on
the moment the seed runs (breaking determinism) and every job would look as if
it had moved through its whole pipeline in the same second. Every generated
path is still validated step by step with :func:`dispatch.states.check_transition`,
and ``Job.version`` / ``Job.status_changed_at`` are set exactly as
``job_transition`` would have left them.

All text meant for people in the field (names, addresses, instructions, notes)
is Japanese, as it would be in production. The tables it draws from live in
:mod:`demo.places` and :mod:`demo.data`; the support desk's calls are added
afterwards by :mod:`demo.support`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.models import Permission as AuthPermission
from django.db import transaction
from django.db.models import F, Model, Q

from accounts.models import Role, User
from dispatch.models import (
    MONDAY_TO_FRIDAY_MASK,
    Crew,
    CrewUnavailability,
    EstimateRule,
    Job,
    JobReport,
    JobStatusChange,
    PartnerCompany,
    Plan,
    ReportKind,
    Skill,
    Visit,
)
from dispatch.promises import TIME_SLOTS
from dispatch.states import JobKind, JobStatus, check_transition
from sites.access_text import parse_access_text
from sites.models import (
    BillingStatus,
    BuildingType,
    Complexity,
    ConduitStatus,
    ConstructionRecord,
    Contract,
    ContractStatus,
    Customer,
    GeocodeStatus,
    IpAssignment,
    IpPool,
    Parking,
    Permission,
    PermissionParty,
    PermissionStatus,
    Region,
    Site,
    SiteSurvey,
    Structure,
)

from .data import (
    ACCESS_TEXT_WEIGHTS,
    ACCESS_TEXTS,
    BUILDING_BRANDS,
    BUILDING_FLAIRS,
    BUSINESSES,
    COMPANIES,
    CUSTOMER_BASES,
    GIVEN_NAMES,
    INCOMPLETE_STORIES,
    MAINTENANCE_SYMPTOMS,
    ORDINALS,
    SERVICES,
    SKILLS,
    SURNAMES,
    UNAVAILABILITY_REASONS,
    CompanySpec,
)
from .places import AREAS, PREFECTURE_CODES, REGIONS, Area, Town
from .support import reset_support_demo

TOKYO = ZoneInfo("Asia/Tokyo")
DEFAULT_SEED = 1
DEFAULT_PASSWORD = "demo-pass-2026"
COORDINATOR_GROUP = "Delivery coordinators"
MONDAY_TO_SATURDAY_MASK = 0b0111111
#: A target "status" of the demo: ready again after an unfinished visit came back to the queue.
READY_AFTER_INCOMPLETE = "ready_after_incomplete"


# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    company: str
    password: str


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` created: counts per model and the logins to print."""

    seed: int
    week_start: dt.date
    counts: dict[str, int]
    logins: tuple[DemoLogin, ...]


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------

#: Models seed_demo fills, in the order they must be emptied (dependants first).
_RESET_ORDER: tuple[type[Model], ...] = (
    JobReport,
    Visit,
    Plan,
    JobStatusChange,
    ConstructionRecord,
    Job,
    Permission,
    SiteSurvey,
    IpAssignment,
    IpPool,
    Contract,
    Customer,
    Site,
    CrewUnavailability,
    Crew,
)
#: Models whose rows mean "this database already holds data".
_DATA_MODELS: tuple[type[Model], ...] = (
    Site,
    Customer,
    Contract,
    Job,
    Plan,
    Crew,
    PartnerCompany,
    Region,
)


def demo_usernames(partner_count: int = len(COMPANIES)) -> tuple[str, ...]:
    """The usernames seed_demo creates, so reset and collision checks name the same ones."""
    return (
        "admin",
        "coordinator",
        "support",
        *(f"partner{i}" for i in range(1, partner_count + 1)),
    )


def default_week_start(today: dt.date | None = None) -> dt.date:
    """The next Monday strictly after ``today`` (in Tokyo): the week a coordinator plans now.

    On a Monday this is the following Monday, because the current week has
    already started and its crews are out.
    """
    if today is None:
        today = dt.datetime.now(TOKYO).date()
    return today + dt.timedelta(days=7 - today.weekday())


def existing_data() -> list[str]:
    """Names of the models seed_demo would fill that already hold rows."""
    return [
        str(model._meta.verbose_name_plural)
        for model in _DATA_MODELS
        if model._default_manager.exists()
    ]


def existing_demo_users() -> list[str]:
    return sorted(
        User.objects.filter(username__in=demo_usernames()).values_list("username", flat=True)
    )


@transaction.atomic
def reset_demo() -> None:
    """Delete everything seed_demo creates, dependants first.

    This empties the domain tables (sites, customers, jobs, plans, crews,
    partner companies, skills, regions), not only rows the demo made: the demo
    is meant for a development database. Users other than the demo users are
    kept, except partner users, who cannot exist without their company.

    Raises
    ------
    django.db.models.ProtectedError
        When a row of another app still points at one of these rows.
    """
    reset_support_demo()
    for model in _RESET_ORDER:
        model._default_manager.all().delete()
    User.objects.filter(Q(username__in=demo_usernames()) | Q(role=Role.PARTNER)).delete()
    Group.objects.filter(name=COORDINATOR_GROUP).delete()
    for model in (PartnerCompany, Region):
        model.objects.all().delete()
    # Skills the estimate rule table refers to are reference data, not demo data.
    in_rules = EstimateRule.objects.filter(add_skill__isnull=False).values("add_skill")
    Skill.objects.exclude(pk__in=in_rules).delete()


@transaction.atomic
def build_demo(*, seed: int, week_start: dt.date, password: str) -> DemoSummary:
    """Create the whole demo dataset for the week starting ``week_start`` (a Monday).

    The same ``seed`` and ``week_start`` always produce the same rows (primary
    keys and ``auto_now`` timestamps aside). Expects the tables to be empty;
    the management command checks that first.
    """
    if week_start.weekday() != 0:
        raise ValueError(f"week_start must be a Monday, got {week_start:%A} {week_start}")
    builder = _Builder(random.Random(seed), week_start)
    regions = builder.regions()
    skills = builder.skills()
    companies = builder.companies(regions)
    logins, partner_users, coordinator = builder.users(companies, password)
    crews = builder.crews(companies, skills)
    unavailabilities = builder.unavailabilities(crews)
    world = builder.sites_and_orders(regions)
    jobs = builder.jobs(world, skills, crews, partner_users, coordinator)
    _delivery_pipeline(random.Random(seed * 7919 + 1), regions)
    counts = {
        "regions": len(regions),
        "skills": len(skills),
        "partner companies": len(companies),
        "users": len(logins),
        "crews": len(crews),
        "crew unavailabilities": len(unavailabilities),
        "sites": Site.objects.count(),
        "customers": Customer.objects.count(),
        "contracts": Contract.objects.count(),
        "site surveys": SiteSurvey.objects.count(),
        "permissions": Permission.objects.count(),
        "construction records": ConstructionRecord.objects.count(),
        "jobs": len(jobs),
        "jobs ready to plan": sum(1 for job in jobs if job.status == JobStatus.READY),
        "job status changes": JobStatusChange.objects.count(),
        "job reports": JobReport.objects.count(),
        "IP addresses assigned": IpAssignment.objects.count(),
    }
    return DemoSummary(seed=seed, week_start=week_start, counts=counts, logins=logins)


def _delivery_pipeline(rng: random.Random, regions: list[Region]) -> None:
    """The parallel tracks of every order: needed permissions, teams, IP addresses, billing.

    Runs after the orders exist, with its own random stream so the rest of the
    demo stays as it was. Written so the order status view shows every stage:
    open lines have an address and billing; of the finished constructions some
    still wait for an address or for the bank, the rest are ready to hand over.
    """
    parties: dict[tuple[int, int | None], set[str]] = {}
    for site_id, contract_id, party in Permission.objects.values_list(
        "site_id", "contract_id", "party"
    ):
        parties.setdefault((site_id, contract_id), set()).add(party)
    surveys = list(SiteSurvey.objects.order_by("pk"))
    for survey in surveys:
        survey.needed_parties = sorted(parties.get((survey.site_id, survey.contract_id), set()))
    SiteSurvey.objects.bulk_update(surveys, ["needed_parties"])

    pools = IpPool.objects.bulk_create(
        IpPool(name=f"{region.code} fibre", network=f"10.{20 + i}.0.0/22", region=region)
        for i, region in enumerate(sorted(regions, key=lambda r: r.code))
    )
    next_host = {pool.pk: 2 for pool in pools}  # .0 network, .1 gateway
    pool_of_region = {pool.region_id: pool for pool in pools}
    completed = set(
        Job.objects.filter(status=JobStatus.COMPLETED).values_list("contract_id", flat=True)
    )
    contracts = list(
        Contract.objects.exclude(status=ContractStatus.CANCELLED)
        .prefetch_related("sites")
        .order_by("contract_id")
    )
    assignments = []
    for contract in contracts:
        contract.delivery_team = 1 + int(contract.contract_id[-6:]) % 4
        site = next(iter(contract.sites.all()), None)
        pool = pool_of_region.get(site.region_id if site else None, pools[0])
        open_line = contract.status == ContractStatus.ACTIVE
        waiting_handover = contract.pk in completed
        if open_line or (waiting_handover and rng.random() < 0.6):
            network = ipaddress.ip_network(pool.network)
            address = network.network_address + next_host[pool.pk]
            next_host[pool.pk] += 1
            assignments.append(IpAssignment(pool=pool, address=str(address), contract=contract))
        if open_line or (waiting_handover and rng.random() < 0.6):
            contract.billing_status = BillingStatus.READY
            contract.billing_ready_on = contract.signed_on
        else:
            contract.billing_status = rng.choice((BillingStatus.PENDING, BillingStatus.REQUESTED))
        if open_line and contract.signed_on is not None:
            contract.handed_over_at = dt.datetime.combine(
                contract.signed_on + dt.timedelta(days=30), dt.time(17), tzinfo=TOKYO
            )
    Contract.objects.bulk_update(
        contracts, ["delivery_team", "billing_status", "billing_ready_on", "handed_over_at"]
    )
    IpAssignment.objects.bulk_create(assignments)
    # What was built for open lines is the record support reads.
    ConstructionRecord.objects.filter(
        site__contracts__status=ContractStatus.ACTIVE, archived_at__isnull=True
    ).update(archived_at=F("recorded_at"))


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _to_hiragana(katakana: str) -> str:
    """Some customers' readings are registered in hiragana; the support search must cope."""
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in katakana)


def _jitter(
    rng: random.Random, lat: float, lon: float, min_km: float, max_km: float
) -> tuple[float, float]:
    """A point ``min_km``..``max_km`` from (lat, lon) in a random direction, to ~10 cm."""
    distance_km = rng.uniform(min_km, max_km)
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance_km * math.cos(bearing) / 111.0
    dlon = distance_km * math.sin(bearing) / (111.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TOKYO)


def _business_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _office_moments(
    rng: random.Random, count: int, first: dt.date, last: dt.date
) -> list[dt.datetime]:
    """``count`` strictly increasing office-hour moments on business days in [first, last]."""
    days = _business_days(first, last) or [last]
    picked = sorted((rng.choice(days), rng.randrange(9 * 12, 18 * 12 + 6)) for _ in range(count))
    moments: list[dt.datetime] = []
    for day, five_minutes in picked:
        moment = _at(day, 0) + dt.timedelta(minutes=5 * five_minutes)
        if moments and moment <= moments[-1]:
            moment = moments[-1] + dt.timedelta(minutes=5)
        moments.append(moment)
    return moments


def _person(rng: random.Random) -> tuple[str, str, str]:
    """(full name, surname, surname kana) of a random person."""
    surname, kana = rng.choice(SURNAMES)
    return f"{surname} {rng.choice(GIVEN_NAMES)}", surname, kana


def _phone(rng: random.Random, area_code: str) -> str:
    """A landline in one of the formats people actually type (with or without hyphens…)."""
    local_digits = 10 - len(area_code)
    if local_digits == 8:
        exchange, line = f"{rng.randint(3000, 6999)}", f"{rng.randint(0, 9999):04d}"
    else:
        width = local_digits - 4
        exchange = f"{rng.randint(2 * 10 ** (width - 1), 10**width - 1)}"
        line = f"{rng.randint(0, 9999):04d}"
    style = rng.random()
    if style < 0.65:
        return f"{area_code}-{exchange}-{line}"
    if style < 0.80:
        return f"{area_code}{exchange}{line}"
    if style < 0.93:
        return f"{area_code}({exchange}){line}"
    return f"+81-{area_code[1:]}-{exchange}-{line}"


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(("080", "090", "070"))
    number = f"{prefix}-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
    return number if rng.random() < 0.8 else number.replace("-", "")


def _checked_path(kind: str, path: Sequence[str]) -> list[str]:
    """Check a status path against the state machine: the demo must not hold an illegal history."""
    current = JobStatus.NEW.value
    for status in path:
        check_transition(current, status, kind=kind)
        current = status
    return list(path)


# --------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------


@dataclass
class _SiteFacts:
    """What the builder knows about one site while it builds the orders around it."""

    site: Site
    area: Area
    town: Town
    line_open: bool
    customer: Customer | None = None
    contract: Contract | None = None
    survey: SiteSurvey | None = None
    #: The job coming up at this site ("" for none) and the status it should reach.
    kind: str = ""
    target_status: str = ""
    needs_permission: bool = False
    old_site: Site | None = None


@dataclass
class _World:
    sites: list[_SiteFacts]
    job_sites: list[_SiteFacts]


class _Builder:
    """Draws every value from one ``random.Random`` in a fixed order.

    The methods must be called in the order :func:`build_demo` calls them:
    changing that order (or adding a draw in the middle) changes the data for
    a seed, which is fine, but it must never depend on anything but the seed.
    """

    def __init__(self, rng: random.Random, week_start: dt.date) -> None:
        self.rng = rng
        self.week_start = week_start
        self.week_days = [week_start + dt.timedelta(days=i) for i in range(6)]
        self.history_until = week_start - dt.timedelta(days=7)
        self.field_week = [week_start - dt.timedelta(days=14 - i) for i in range(5)]
        self.used_addresses: set[str] = set()
        self.used_customer_names: set[str] = set()
        self.region_by_code: dict[str, Region] = {}
        self.crew_skills: dict[int, frozenset[str]] = {}

    # ---------------------------------------------------------------- reference data

    def regions(self) -> list[Region]:
        regions = Region.objects.bulk_create(Region(code=code, name=name) for code, name in REGIONS)
        self.region_by_code = {region.code: region for region in regions}
        return regions

    def skills(self) -> dict[str, Skill]:
        # Some skills already exist: the estimate rule table's migration creates them.
        skills = {}
        for code, name, name_en in SKILLS:
            skill, _ = Skill.objects.update_or_create(
                code=code, defaults={"name": name, "name_en": name_en}
            )
            skills[code] = skill
        return skills

    def companies(self, regions: list[Region]) -> list[PartnerCompany]:
        companies = PartnerCompany.objects.bulk_create(
            PartnerCompany(
                name=spec.name,
                name_kana=spec.kana,
                is_group_company=spec.is_group_company,
                phone=spec.phone,
                email=spec.email,
            )
            for spec in COMPANIES
        )
        through = PartnerCompany.regions.through
        through.objects.bulk_create(
            through(partnercompany_id=company.pk, region_id=self.region_by_code[code].pk)
            for company, spec in zip(companies, COMPANIES, strict=True)
            for code in spec.regions
        )
        return companies

    def users(
        self, companies: list[PartnerCompany], password: str
    ) -> tuple[tuple[DemoLogin, ...], dict[int, User], User]:
        """Demo users for each role; partner users are bound to their company.

        One password hash is shared by all demo users: hashing is deliberately
        slow (PBKDF2, ~0.3 s each) and would dominate the seed time, and the
        demo users share the same password anyway.
        """
        hashed = make_password(password)
        users = [
            User(
                username="admin",
                first_name="管理者",
                last_name="システム",
                role=Role.COORDINATOR,
                is_staff=True,
                is_superuser=True,
                email="admin@koto-net.example.co.jp",
            ),
            User(
                username="coordinator",
                first_name="亜希",
                last_name="木下",
                role=Role.COORDINATOR,
                is_staff=True,
                email="kinoshita@koto-net.example.co.jp",
            ),
            User(
                username="support",
                first_name="悠斗",
                last_name="村上",
                role=Role.SUPPORT,
                email="support-desk@koto-net.example.co.jp",
            ),
        ]
        for number, (company, spec) in enumerate(zip(companies, COMPANIES, strict=True), start=1):
            surname, given = spec.contact
            users.append(
                User(
                    username=f"partner{number}",
                    first_name=given,
                    last_name=surname,
                    role=Role.PARTNER,
                    partner_company=company,
                    email=spec.email,
                )
            )
        for user in users:
            user.password = hashed
        users = User.objects.bulk_create(users)

        # is_staff alone opens the admin but shows nothing: the coordinator
        # needs the model permissions of the apps they run day to day.
        group = Group.objects.create(name=COORDINATOR_GROUP)
        group.permissions.set(
            AuthPermission.objects.filter(
                Q(content_type__app_label__in=["sites", "dispatch"])
                | Q(content_type__app_label="accounts", codename="view_user")
            )
        )
        coordinator = next(user for user in users if user.username == "coordinator")
        coordinator.groups.add(group)

        logins = tuple(
            DemoLogin(
                username=user.username,
                role="coordinator (superuser)" if user.is_superuser else user.role,
                company=user.partner_company.name if user.partner_company else "",
                password=password,
            )
            for user in users
        )
        partner_users = {user.partner_company_id: user for user in users if user.partner_company_id}
        return logins, partner_users, coordinator

    # ---------------------------------------------------------------- crews

    def _address(self, area: Area, town: Town) -> str:
        """A unique address as written in Japan, e.g. 東京都港区芝浦3丁目4-1."""
        rng = self.rng
        while True:
            block, number = rng.randint(1, 28), rng.randint(1, 22)
            if not town.has_chome:
                tail = f"{block}-{number}"
            elif rng.random() < 0.8:
                tail = f"{rng.randint(1, 5)}丁目{block}-{number}"
            else:
                tail = f"{rng.randint(1, 5)}-{block}-{number}"
            address = f"{area.prefecture}{area.city}{town.name}{tail}"
            if address not in self.used_addresses:
                self.used_addresses.add(address)
                return address

    def crews(self, companies: list[PartnerCompany], skills: dict[str, Skill]) -> list[Crew]:
        rng = self.rng
        area_by_city = {area.city: area for area in AREAS}
        crews: list[Crew] = []
        crew_skill_codes: list[list[str]] = []
        for company, spec in zip(companies, COMPANIES, strict=True):
            for number in range(1, spec.crews + 1):
                area = area_by_city[spec.depot_cities[(number - 1) % len(spec.depot_cities)]]
                town = rng.choice(area.towns)
                lat, lon = _jitter(rng, area.latitude, area.longitude, 0.3, area.radius_km)
                members = rng.choices((1, 2, 3), weights=(15, 55, 30))[0]
                early = rng.random() < 0.5
                saturday = rng.random() < (0.35 if spec.is_group_company else 0.2)
                _, leader, _ = _person(rng)
                crews.append(
                    Crew(
                        company=company,
                        name=f"第{number}班（{leader}）",
                        members=members,
                        home_base_address=self._address(area, town),
                        home_latitude=lat,
                        home_longitude=lon,
                        shift_start=dt.time(8, 0) if early else dt.time(8, 30),
                        shift_end=dt.time(18, 0) if early else dt.time(17, 30),
                        working_weekdays=MONDAY_TO_SATURDAY_MASK
                        if saturday
                        else MONDAY_TO_FRIDAY_MASK,
                        max_jobs_per_day=rng.randint(3, 6),
                        cost_per_km_yen=rng.randrange(40, 91, 5),
                        capacity_units=rng.choice((None, None, None, 6, 8)),
                        min_gap_minutes=rng.choice((None, None, None, 20, 30)),
                    )
                )
                crew_skill_codes.append(self._crew_skills(number, spec))
        crews = Crew.objects.bulk_create(crews)
        through = Crew.skills.through
        through.objects.bulk_create(
            through(crew_id=crew.pk, skill_id=skills[code].pk)
            for crew, codes in zip(crews, crew_skill_codes, strict=True)
            for code in codes
        )
        self.crew_skills = {
            crew.pk: frozenset(codes) for crew, codes in zip(crews, crew_skill_codes, strict=True)
        }
        return crews

    def _crew_skills(self, number: int, spec: CompanySpec) -> list[str]:
        """Every crew installs media converters; the first crew of a company can do everything
        a new line usually needs, so each partner can take the common jobs."""
        rng = self.rng
        odds = {
            "fibre_splicing": 0.85,
            "aerial_cabling": 0.5,
            "high_reach": 0.25,
            "riser_cabling": 0.6,
            "indoor_wiring": 0.65,
            "core_drilling": 0.3,
            "router_config": 0.6,
            "fault_diagnosis": 0.8 if spec.is_group_company else 0.35,
            "night_work": 0.25,
        }
        always = {"mc_install"}
        if number == 1:
            always |= {"fibre_splicing", "aerial_cabling", "riser_cabling", "indoor_wiring"}
        codes = []
        for code, _name, _name_en in SKILLS:
            draw = rng.random()
            if code in always or draw < odds.get(code, 0):
                codes.append(code)
        if "high_reach" in codes and "aerial_cabling" not in codes:
            codes.append("aerial_cabling")
        return sorted(codes)

    def unavailabilities(self, crews: list[Crew]) -> list[CrewUnavailability]:
        rng = self.rng
        rows = []
        for crew in rng.sample(crews, 6):
            first = rng.randrange(0, 5)
            length = rng.choice((1, 1, 1, 2, 5))
            rows.append(
                CrewUnavailability(
                    crew=crew,
                    start_date=self.week_days[first],
                    end_date=self.week_days[min(first + length - 1, 4)],
                    reason=rng.choice(UNAVAILABILITY_REASONS),
                )
            )
        return CrewUnavailability.objects.bulk_create(rows)

    # ---------------------------------------------------------------- sites, customers, contracts

    def sites_and_orders(self, regions: list[Region]) -> _World:
        """~400 sites: lines already open (some with a plan change or fault visit coming),
        new lines being delivered, and offices customers are moving into."""
        rng = self.rng
        open_sites = [self._site(line_open=True) for _ in range(185)]
        new_sites = [self._site(line_open=False) for _ in range(190)]
        relocation_sites = [self._site(line_open=False) for _ in range(25)]
        facts = open_sites + new_sites + relocation_sites
        Site.objects.bulk_create([fact.site for fact in facts])

        shuffled_open = open_sites[:]
        rng.shuffle(shuffled_open)
        plan_change_sites = shuffled_open[:45]
        maintenance_sites = shuffled_open[45:85]
        relocation_origins = shuffled_open[85:110]

        # Customers and contracts. A few customers have several open sites (branches).
        customers: list[Customer] = []
        for index, fact in enumerate(open_sites + new_sites):
            if fact.line_open and index > 10 and rng.random() < 0.08:
                fact.customer = rng.choice(customers[:index])
            else:
                fact.customer = self._customer(fact.area)
                customers.append(fact.customer)
        for origin, target in zip(relocation_origins, relocation_sites, strict=True):
            target.customer = origin.customer
            target.old_site = origin.site
        Customer.objects.bulk_create(customers)

        statuses = self._status_mix()
        for kind, group in (
            (JobKind.NEW_LINE, new_sites),
            (JobKind.PLAN_CHANGE, plan_change_sites),
            (JobKind.MAINTENANCE, maintenance_sites),
            (JobKind.RELOCATION, relocation_sites),
        ):
            mix = statuses[kind]
            rng.shuffle(mix)
            for fact, status in zip(group, mix, strict=True):
                fact.kind = kind
                fact.target_status = status

        self._contracts(open_sites, new_sites, relocation_sites, relocation_origins)
        self._history_of_open_sites(open_sites)
        job_sites = new_sites + plan_change_sites + maintenance_sites + relocation_sites
        return _World(sites=facts, job_sites=job_sites)

    def _status_mix(self) -> dict[str, list[str]]:
        """How many jobs of each kind sit at each stage: most ready, the rest spread out."""
        S = JobStatus

        def mix(counts: dict[str, int]) -> list[str]:
            return [str(status) for status, count in counts.items() for _ in range(count)]

        return {
            JobKind.NEW_LINE: mix(
                {
                    S.READY: 122,
                    S.NEW: 14,
                    S.SURVEYED: 13,
                    S.AWAITING_PERMISSION: 20,
                    S.COMPLETED: 5,
                    S.HANDED_OVER: 10,
                    S.INCOMPLETE: 2,
                    S.CANCELLED: 2,
                    READY_AFTER_INCOMPLETE: 2,
                }
            ),
            JobKind.PLAN_CHANGE: mix(
                {
                    S.READY: 31,
                    S.NEW: 4,
                    S.SURVEYED: 5,
                    S.COMPLETED: 2,
                    S.HANDED_OVER: 2,
                    READY_AFTER_INCOMPLETE: 1,
                }
            ),
            JobKind.MAINTENANCE: mix({S.READY: 33, S.NEW: 5, S.COMPLETED: 2}),
            JobKind.RELOCATION: mix(
                {
                    S.READY: 13,
                    S.NEW: 2,
                    S.SURVEYED: 2,
                    S.AWAITING_PERMISSION: 5,
                    S.HANDED_OVER: 2,
                    S.INCOMPLETE: 1,
                }
            ),
        }

    def _site(self, *, line_open: bool) -> _SiteFacts:
        rng = self.rng
        area = rng.choices(AREAS, weights=[a.weight for a in AREAS])[0]
        town = rng.choice(area.towns)
        lat, lon = _jitter(rng, area.latitude, area.longitude, 0.15, area.radius_km)
        building_type = rng.choices(
            (
                BuildingType.OFFICE,
                BuildingType.MIXED,
                BuildingType.RETAIL,
                BuildingType.RESIDENTIAL,
                BuildingType.FACTORY,
                BuildingType.DETACHED,
            ),
            weights=(60, 20, 7, 5, 4, 4),
        )[0]
        floors = {
            BuildingType.OFFICE: lambda: rng.choices(
                (rng.randint(3, 10), rng.randint(8, 15), rng.randint(16, 45)), weights=(60, 28, 12)
            )[0],
            BuildingType.MIXED: lambda: rng.randint(3, 12),
            BuildingType.RETAIL: lambda: rng.randint(1, 4),
            BuildingType.RESIDENTIAL: lambda: rng.randint(3, 15),
            BuildingType.FACTORY: lambda: rng.randint(1, 3),
            BuildingType.DETACHED: lambda: rng.randint(1, 3),
        }[building_type]()
        name, kana = self._building_name(building_type, floors, town)
        notes = ""
        if rng.random() < 0.15:
            notes = rng.choice(
                (
                    "入館は防災センター経由。作業員名簿を前日までに提出。",
                    "地下駐車場の車高制限 2.1m。高所作業車は進入不可。",
                    "管理人は平日 9:00–16:00 のみ常駐。",
                    "1F は飲食店。搬入は裏口（路地側）から。",
                    f"築{rng.randint(30, 55)}年。共用部の配管は老朽化、現地調査時に要確認。",
                )
            )
        site = Site(
            name=name,
            name_kana=kana,
            address=self._address(area, town),
            postal_code=town.postal_code,
            prefecture=area.prefecture,
            city=area.city,
            region=self.region_by_code[area.region],
            latitude=lat,
            longitude=lon,
            geocode_status=GeocodeStatus.MANUAL,
            floors=floors,
            building_type=building_type,
            notes=notes,
        )
        return _SiteFacts(site=site, area=area, town=town, line_open=line_open)

    def _building_name(self, building_type: str, floors: int, town: Town) -> tuple[str, str]:
        rng = self.rng
        brand, brand_kana = rng.choice(BUILDING_BRANDS)
        if building_type == BuildingType.OFFICE:
            suffix = rng.choice(
                ("タワー", "タワー")
                if floors >= 20
                else ("ビル", "ビル", "ビルディング", "センタービル", "スクエア")
            )
        else:
            suffixes: dict[str, tuple[str, ...]] = {
                BuildingType.MIXED: ("ビル", "会館", "プラザ"),
                BuildingType.RETAIL: ("ショッピングプラザ", "商店会館", "ビル"),
                BuildingType.RESIDENTIAL: ("レジデンス", "ハイツ", "マンション"),
                BuildingType.FACTORY: ("物流センター", "工場", "倉庫"),
                BuildingType.DETACHED: ("ハウス", "事務所"),
            }
            suffix = rng.choice(suffixes[building_type])
        suffix_kana = {
            "タワー": "タワー",
            "ビル": "ビル",
            "ビルディング": "ビルディング",
            "センタービル": "センタービル",
            "スクエア": "スクエア",
            "会館": "カイカン",
            "プラザ": "プラザ",
            "ショッピングプラザ": "ショッピングプラザ",
            "商店会館": "ショウテンカイカン",
            "レジデンス": "レジデンス",
            "ハイツ": "ハイツ",
            "マンション": "マンション",
            "物流センター": "ブツリュウセンター",
            "工場": "コウジョウ",
            "倉庫": "ソウコ",
            "ハウス": "ハウス",
            "事務所": "ジムショ",
        }[suffix]
        pattern = rng.random()
        if pattern < 0.35:
            ordinal, ordinal_kana = rng.choice(ORDINALS) if rng.random() < 0.5 else ("", "")
            return f"{ordinal}{brand}{suffix}", f"{ordinal_kana}{brand_kana}{suffix_kana}"
        if pattern < 0.7:
            flair, flair_kana = rng.choice(BUILDING_FLAIRS)
            return f"{town.name}{flair}{suffix}", f"{town.kana}{flair_kana}{suffix_kana}"
        return f"{brand}{town.name}{suffix}", f"{brand_kana}{town.kana}{suffix_kana}"

    def _customer(self, area: Area) -> Customer:
        rng = self.rng
        while True:
            base, base_kana, romaji = rng.choice(CUSTOMER_BASES)
            style = rng.random()
            if style < 0.08:
                name, kana, slug = f"医療法人社団{base}会", f"{base_kana}カイ", f"{romaji}-clinic"
            elif style < 0.14:
                name, kana, slug = f"税理士法人{base}会計", f"{base_kana}カイケイ", f"{romaji}-tax"
            elif style < 0.19:
                name, kana, slug = (
                    f"{base}法律事務所",
                    f"{base_kana}ホウリツジムショ",
                    f"{romaji}-law",
                )
            else:
                business, business_kana, business_romaji = rng.choice(BUSINESSES)
                form = rng.choices(("株式会社", "有限会社", "合同会社"), weights=(85, 8, 7))[0]
                core = f"{base}{business}"
                name = f"{form}{core}" if rng.random() < 0.55 else f"{core}{form}"
                kana, slug = f"{base_kana}{business_kana}", f"{romaji}-{business_romaji}"
            if name not in self.used_customer_names:
                self.used_customer_names.add(name)
                break
            if rng.random() < 0.5:  # a common name: tell them apart the way people do
                name = f"{name}（{area.city}）"
                if name not in self.used_customer_names:
                    self.used_customer_names.add(name)
                    break
        if rng.random() < 0.2:
            kana = _to_hiragana(kana)
        full_name, _, _ = _person(rng)
        department = rng.choice(("", "", "総務部 ", "情報システム部 ", "管理部 ", "経営企画室 "))
        return Customer(
            name=name,
            name_kana=kana,
            contact_person=f"{department}{full_name}",
            phone=_phone(rng, area.phone_area),
            phone_alt=_mobile(rng) if rng.random() < 0.45 else "",
            email=f"{rng.choice(('info', 'soumu', 'it', 'admin'))}@{slug}.example.co.jp"
            if rng.random() < 0.8
            else "",
        )

    def _contracts(
        self,
        open_sites: list[_SiteFacts],
        new_sites: list[_SiteFacts],
        relocation_sites: list[_SiteFacts],
        relocation_origins: list[_SiteFacts],
    ) -> None:
        """Contract ids rise with the signing date, as a real order system hands them out."""
        rng = self.rng
        specs: list[tuple[dt.date, _SiteFacts]] = []
        for fact in open_sites:
            specs.append((self.history_until - dt.timedelta(days=rng.randint(90, 2600)), fact))
        for fact in new_sites:
            specs.append((self.history_until - dt.timedelta(days=rng.randint(25, 70)), fact))
        specs.sort(key=lambda spec: (spec[0], spec[1].site.address))
        number = rng.randint(100, 900)
        contracts = []
        for signed_on, fact in specs:
            number += rng.randint(1, 9)
            if fact.line_open or fact.target_status == JobStatus.HANDED_OVER:
                status = ContractStatus.ACTIVE
            elif fact.target_status == JobStatus.CANCELLED:
                status = ContractStatus.CANCELLED
            else:
                status = ContractStatus.SIGNED
            has_circuit = status == ContractStatus.ACTIVE or rng.random() < 0.6
            contracts.append(
                Contract(
                    customer=fact.customer,
                    contract_id=f"C-{signed_on.year}-{number:06d}",
                    circuit_id=(
                        f"CIR-{PREFECTURE_CODES[fact.area.prefecture]:02d}-{1_000_000 + number * 7}"
                        if has_circuit
                        else None
                    ),
                    service_name=rng.choice(SERVICES),
                    status=status,
                    signed_on=signed_on,
                )
            )
            fact.contract = contracts[-1]
        Contract.objects.bulk_create(contracts)
        links = [(fact.contract, fact.site) for _, fact in specs]
        # A relocation keeps the customer's contract: it now covers the old and the new office.
        for origin, target in zip(relocation_origins, relocation_sites, strict=True):
            target.contract = origin.contract
            links.append((origin.contract, target.site))
        through = Contract.sites.through
        through.objects.bulk_create(
            through(contract_id=contract.pk, site_id=site.pk)
            for contract, site in links
            if contract
        )

    # ------------------------------------------------------- surveys, permissions, as-built

    def _survey(
        self, fact: _SiteFacts, surveyed_on: dt.date, contract: Contract | None
    ) -> SiteSurvey:
        rng = self.rng
        site = fact.site
        floors = site.floors or 1
        if site.building_type == BuildingType.DETACHED:
            structure = rng.choice((Structure.WOOD, Structure.STEEL))
        elif floors >= 10:
            structure = rng.choice((Structure.SRC, Structure.SRC, Structure.RC, Structure.STEEL))
        else:
            structure = rng.choices(
                (Structure.RC, Structure.STEEL, Structure.SRC, Structure.OTHER),
                weights=(55, 30, 10, 5),
            )[0]
        conduit = rng.choices(
            (ConduitStatus.AVAILABLE, ConduitStatus.NONE, ConduitStatus.FULL), weights=(60, 25, 15)
        )[0]
        side = rng.choice(("東側", "西側", "北側", "南側"))
        riser_route = {
            ConduitStatus.AVAILABLE: rng.choice(
                (
                    f"共用EPS（各階{side}）内 既設φ28配管を使用",
                    f"{side}PS内 既設ケーブルラック経由で各階へ",
                    "階段室横 既設弱電配管（空き2条）",
                    "1F MDF室 → 共用EPS → 各階配線盤",
                )
            ),
            ConduitStatus.FULL: rng.choice(
                (
                    f"共用EPS（{side}）内 既設配管満杯：ケーブルラック増設が必要",
                    "既設φ22配管 空きなし：隣接PSに新設配管を検討",
                )
            ),
            ConduitStatus.NONE: rng.choice(
                (
                    "共用部に配管なし：階段室壁面にモール新設",
                    "配管なし：外壁沿いに保護管を新設し各階で引込",
                    "配管なし：天井裏転がし配線（管理会社承認要）",
                )
            ),
        }[conduit]
        distance_m = int(max(60, min(2500, round(rng.lognormvariate(math.log(450), 0.6), -1))))
        central = fact.area.region == "tokyo-central"
        parking = rng.choices(
            (Parking.TENANT_LOT, Parking.BUILDING_LOT, Parking.STREET, Parking.NONE),
            weights=(20, 25, 40, 15) if central else (20, 40, 35, 5),
        )[0]
        parking_arrangement = {
            Parking.TENANT_LOT: rng.choice(
                (
                    f"テナント駐車場 B{rng.randint(1, 3)} No.{rng.randint(1, 40)} を確保済",
                    f"お客様契約駐車場 {rng.randint(1, 20)}番を当日使用可（お客様手配済）",
                )
            ),
            Parking.BUILDING_LOT: rng.choice(
                (
                    f"ビル来客用駐車場（{rng.randint(1, 8)}番）を管理室へ事前申請済",
                    "搬入口横の荷捌きスペース 2時間まで（管理会社了承済）",
                )
            ),
            Parking.STREET: rng.choice(
                (
                    f"近隣コインパーキング利用（徒歩{rng.randint(2, 8)}分）",
                    f"ビル前は駐停車禁止。{fact.town.name}周辺のコインパーキングを利用",
                )
            ),
            Parking.NONE: (
                "駐車場なし：最寄りの時間貸し駐車場から機材を台車で搬入"
                f"（約{rng.randint(1, 5)}00m）"
            ),
        }[parking]
        if site.building_type == BuildingType.RETAIL:
            access_text = "毎日8:00〜11:00"
            access_rules = "開店前のみ作業可。共用部作業は管理会社立会い"
        else:
            access_text = rng.choices(ACCESS_TEXTS, weights=ACCESS_TEXT_WEIGHTS)[0]
            access_rules = rng.choice(
                (
                    "防災センターで入館受付（身分証・作業届要）",
                    "エレベーター使用は管理会社へ前日までに予約",
                    "鍵は管理人室で借用",
                    "共用部作業は管理会社立会い必須",
                    "入館証は前週金曜までに申請",
                    "",
                )
            )
        access = parse_access_text(access_text)
        # The demo writes only what the planner can read: a spelling the parser
        # flags is a bug in this list, not something to plan around.
        assert not access.unparsed, (access_text, access.unparsed)
        findings = [f"築{rng.randint(3, 55)}年、{floors}階建。"]
        if conduit == ConduitStatus.NONE:
            findings.append("共用部に通信用の配管なし。モール新設のルートを管理会社と要調整。")
        elif conduit == ConduitStatus.FULL:
            findings.append("既設配管に空きなし。新設ルートの確保が必要。")
        if distance_m > 1000:
            findings.append(
                f"基地局から {distance_m}m。途中電柱 {distance_m // 40} 本経由の架空配線。"
            )
        findings.append(
            rng.choice(
                (
                    "受電設備は地下1階。",
                    "屋上に他社アンテナあり、作業時注意。",
                    "テナント入居工事中のため EV 使用は要予約。",
                    "MDF室は施錠、鍵は管理室。",
                    "",
                )
            )
        )
        if conduit == ConduitStatus.NONE or distance_m > 1200 or floors > 20:
            complexity = Complexity.HIGH
        elif conduit == ConduitStatus.AVAILABLE and distance_m < 300:
            complexity = Complexity.LOW
        else:
            complexity = Complexity.MEDIUM
        surveyor, _, _ = _person(rng)
        return SiteSurvey(
            site=site,
            contract=contract,
            surveyed_on=surveyed_on,
            surveyor=surveyor,
            structure=structure,
            conduit_status=conduit,
            riser_route=riser_route,
            distance_to_base_station_m=distance_m,
            parking=parking,
            parking_arrangement=parking_arrangement,
            access_hours=access.hours.to_json(),
            access_rules="。".join(part for part in (access.notes, access_rules) if part),
            findings="".join(findings),
            complexity=complexity,
        )

    def _resurvey(self, old: SiteSurvey, surveyed_on: dt.date) -> SiteSurvey:
        """A new visit to a known building: the building is the same, the findings are new."""
        surveyor, _, _ = _person(self.rng)
        return SiteSurvey(
            site=old.site,
            contract=old.contract,
            surveyed_on=surveyed_on,
            surveyor=surveyor,
            structure=old.structure,
            conduit_status=old.conduit_status,
            riser_route=old.riser_route,
            distance_to_base_station_m=old.distance_to_base_station_m,
            parking=old.parking,
            parking_arrangement=old.parking_arrangement,
            access_hours=old.access_hours,
            access_rules=old.access_rules,
            findings="コース変更に伴う再調査。前回調査時から建物・経路に変更なし。"
            + self.rng.choice(
                ("MC 設置場所の電源容量を確認済。", "ラック内の空き 2U を確認。", "")
            ),
            complexity=Complexity.LOW,
        )

    def _management_company(self) -> str:
        brand, _ = self.rng.choice(BUILDING_BRANDS)
        return self.rng.choice(
            (
                f"株式会社{brand}ビルマネジメント",
                f"{brand}不動産管理株式会社",
                f"{brand}ファシリティーズ株式会社",
            )
        )

    def _permissions(
        self,
        fact: _SiteFacts,
        parties: list[str],
        requested_on: dt.date,
        decided_by: dt.date,
        *,
        pending: Sequence[str] = (),
        refused: Sequence[str] = (),
        may_expire: bool = True,
    ) -> list[Permission]:
        """One permission per party; ``pending`` parties still requested, ``refused`` ones refused,
        the others granted by ``decided_by`` (the last one exactly then: that grant made the job
        ready).

        Grants for lines opened long ago never expire here: an expired grant on
        an open line would block its plan change for a reason nobody could see.
        """
        rng = self.rng
        span_days = max(0, (decided_by - requested_on).days)
        names: dict[str, str] = {
            PermissionParty.CUSTOMER: fact.customer.name if fact.customer else "",
            PermissionParty.MANAGEMENT: self._management_company(),
            PermissionParty.OWNER: rng.choice(
                (
                    f"{rng.choice(BUILDING_BRANDS)[0]}興産株式会社",
                    f"{_person(rng)[0]}（個人オーナー）",
                )
            ),
            PermissionParty.TENANT: (
                f"{rng.randint(2, 9)}F テナント {rng.choice(CUSTOMER_BASES)[0]}商事"
            ),
        }
        rows = []
        granted = [party for party in parties if party not in pending and party not in refused]
        for party in parties:
            permission = Permission(
                site=fact.site,
                contract=fact.contract,
                party=party,
                party_name=names[party],
                requested_on=requested_on,
            )
            if party in pending:
                permission.notes = rng.choice(
                    (
                        f"{requested_on:%m/%d} 工事申請書を送付、回答待ち",
                        "理事会（月次）での承認待ち",
                        "オーナー確認中との連絡あり（管理会社経由）",
                    )
                )
            elif party in refused:
                permission.status = PermissionStatus.REFUSED
                permission.decided_on = requested_on + dt.timedelta(days=rng.randint(0, span_days))
                permission.notes = (
                    "共用部への配管新設は不可との回答。外壁経由の代替ルートで再申請を検討中"
                )
            else:
                permission.status = PermissionStatus.GRANTED
                if party == granted[-1]:
                    permission.decided_on = decided_by
                else:
                    permission.decided_on = requested_on + dt.timedelta(
                        days=rng.randint(0, span_days)
                    )
                if may_expire and rng.random() < 0.3:
                    permission.expires_on = permission.decided_on + dt.timedelta(days=180)
                if (
                    party in (PermissionParty.MANAGEMENT, PermissionParty.OWNER)
                    and rng.random() < 0.4
                ):
                    permission.notes = "作業日の3営業日前までに作業届を提出すること"
            rows.append(permission)
        return rows

    def _needed_parties(self, fact: _SiteFacts) -> list[str]:
        """Who must agree: the customer always; in a shared building management, often the owner."""
        rng = self.rng
        if not fact.needs_permission:
            return [PermissionParty.CUSTOMER]
        parties: list[str] = [PermissionParty.CUSTOMER, PermissionParty.MANAGEMENT]
        if rng.random() < 0.4:
            parties.append(PermissionParty.OWNER)
        if rng.random() < 0.1:
            parties.append(PermissionParty.TENANT)
        return parties

    def _as_built(
        self,
        fact: _SiteFacts,
        survey: SiteSurvey,
        recorded_at: dt.datetime,
        recorded_by_name: str,
    ) -> ConstructionRecord:
        """What support reads during a call: where the media converter is, how the fibre runs."""
        rng = self.rng
        floors = fact.site.floors or 1
        floor = rng.randint(1, floors)
        side = rng.choice(("東側", "西側", "北側", "南側"))
        location = rng.choice(
            (
                f"{floor}F {side}EPS内 ラック下段",
                f"{floor}F サーバールーム 19インチラック U{rng.randint(2, 40)}",
                f"{floor}F 事務所内 受付裏の壁面棚",
                "1F MDF室 光成端箱横",
                "B1F 電気室 通信盤内",
            )
        )
        pole = rng.randint(10, 99)
        return ConstructionRecord(
            site=fact.site,
            media_converter_location=location,
            port=rng.choice(
                (
                    "MC LAN1 → お客様ルーター WAN",
                    "ONU LAN1 → お客様UTM WAN",
                    "MC LAN2（LAN1 は故障のため不使用）",
                    f"光成端箱 #{rng.randint(1, 8)} ポート",
                )
            ),
            cable_route=(
                f"電柱 No.{pole} から引込 → 1F MDF室 → {survey.riser_route or '共用部'} → "
                f"{floor}F 天井裏 → {location.split(' ', 1)[-1]}"
            ),
            riser=survey.riser_route,
            notes=rng.choice(
                (
                    "ルーターはお客様所有（YAMAHA RTX1220）。"
                    "切り分け時は MC の LINK ランプを確認。",
                    "MC の電源はラック内 UPS から。停電試験時は事前連絡要。",
                    "EPS の鍵は管理室。夜間は防災センターで借用。",
                    "光コードに余長 3m をラック内に収納。",
                    "お客様 LAN 側はお客様委託業者（保守契約あり）。",
                    "",
                )
            ),
            recorded_by_name=recorded_by_name,
            recorded_at=recorded_at,
        )

    def _history_of_open_sites(self, open_sites: list[_SiteFacts]) -> None:
        """Lines opened before this system: an old survey, granted permissions, as-built notes."""
        rng = self.rng
        surveys, permissions, records = [], [], []
        for fact in open_sites:
            assert fact.contract is not None and fact.contract.signed_on is not None
            surveyed_on = fact.contract.signed_on + dt.timedelta(days=rng.randint(5, 15))
            fact.needs_permission = fact.site.building_type != BuildingType.DETACHED
            fact.survey = self._survey(fact, surveyed_on, fact.contract)
            surveys.append(fact.survey)
            decided = surveyed_on + dt.timedelta(days=rng.randint(3, 20))
            permissions += self._permissions(
                fact, self._needed_parties(fact), surveyed_on, decided, may_expire=False
            )
            opened = decided + dt.timedelta(days=rng.randint(7, 30))
            company = rng.choice(COMPANIES)
            records.append(
                self._as_built(
                    fact,
                    fact.survey,
                    _at(opened, rng.randint(14, 18), rng.choice((0, 15, 30, 45))),
                    f"{company.name} {_person(rng)[1]}",
                )
            )
            if rng.random() < 0.12:  # a later rewiring left a second set of notes
                later = opened + dt.timedelta(days=rng.randint(200, 900))
                if later < self.history_until:
                    records.append(
                        self._as_built(
                            fact,
                            fact.survey,
                            _at(later, 16, 30),
                            f"{rng.choice(COMPANIES).name} {_person(rng)[1]}",
                        )
                    )
        SiteSurvey.objects.bulk_create(surveys)
        _sites_take_survey_access(surveys)
        Permission.objects.bulk_create(permissions)
        ConstructionRecord.objects.bulk_create(records)

    # ---------------------------------------------------------------- jobs

    def _path(self, fact: _SiteFacts) -> list[str]:
        S = JobStatus
        kind, target = fact.kind, fact.target_status
        if kind == JobKind.MAINTENANCE:
            office = [S.READY]
        else:
            office = (
                [S.SURVEYED]
                + ([S.AWAITING_PERMISSION] if fact.needs_permission else [])
                + [S.READY]
            )
        field_visit = [S.SCHEDULED, S.DISPATCHED, S.IN_PROGRESS]
        path = {
            S.NEW: [],
            S.SURVEYED: [S.SURVEYED],
            S.AWAITING_PERMISSION: [S.SURVEYED, S.AWAITING_PERMISSION],
            S.READY: office,
            READY_AFTER_INCOMPLETE: [*office, *field_visit, S.INCOMPLETE, S.READY],
            S.COMPLETED: [*office, *field_visit, S.COMPLETED],
            S.HANDED_OVER: [*office, *field_visit, S.COMPLETED, S.HANDED_OVER],
            S.INCOMPLETE: [*office, *field_visit, S.INCOMPLETE],
            S.CANCELLED: [S.SURVEYED, S.AWAITING_PERMISSION, S.CANCELLED],
        }[target]
        return _checked_path(kind, path)

    def _timeline(
        self, path: list[str], duration_minutes: int
    ) -> tuple[dt.datetime, list[dt.datetime]]:
        """When the order came in and when each step of ``path`` happened.

        Office steps fall on business days between the order and the field
        visit (or the history cut-off); a field visit happens in the week
        before last: planned on Thursday, sent to the crew on Friday, done on
        a weekday of the following week.
        """
        rng = self.rng
        S = JobStatus
        field_start = path.index(S.SCHEDULED) if S.SCHEDULED in path else len(path)
        office_count = field_start
        if field_start < len(path):
            office_until = self.field_week[0] - dt.timedelta(days=5)
            ordered_on = office_until - dt.timedelta(days=rng.randint(15, 45))
        else:
            office_until = self.history_until - dt.timedelta(days=3)
            ordered_on = office_until - dt.timedelta(days=rng.randint(4, 50))
        ordered_at = _at(ordered_on, rng.randint(9, 17), rng.choice((0, 10, 20, 30, 40, 50)))
        first_office_day = ordered_on + dt.timedelta(days=1)
        times = _office_moments(
            rng, office_count, first_office_day, max(first_office_day, office_until)
        )
        if field_start < len(path):
            thursday = self.field_week[0] - dt.timedelta(days=4)
            work_day = rng.choice(self.field_week)
            started = _at(work_day, rng.randint(9, 13), rng.choice((0, 15, 30, 45)))
            times += [
                _at(thursday, rng.randint(10, 17), rng.choice((0, 20, 40))),
                _at(thursday + dt.timedelta(days=1), 16, rng.choice((0, 15, 30))),
                started,
            ]
            finished = started + dt.timedelta(
                minutes=duration_minutes + rng.choice((-15, 0, 10, 25))
            )
            for status in path[field_start + 3 :]:
                if status in (S.COMPLETED, S.INCOMPLETE):
                    times.append(finished)
                else:  # handed over, or back to ready after an incomplete visit
                    day = min(
                        work_day + dt.timedelta(days=rng.randint(1, 3)),
                        self.history_until - dt.timedelta(days=1),
                    )
                    while day.weekday() >= 5:
                        day -= dt.timedelta(days=1)
                    moment = max(_at(day, rng.randint(10, 17)), finished + dt.timedelta(hours=1))
                    times.append(moment)
        return ordered_at, times

    def _duration_and_skills(
        self, fact: _SiteFacts, survey: SiteSurvey
    ) -> tuple[int, list[str], int]:
        """Duration (min), required skills and crew size, from the survey as a coordinator would."""
        rng = self.rng
        kind = fact.kind
        floors = fact.site.floors or 1
        if kind == JobKind.MAINTENANCE:
            skills = ["fault_diagnosis", "mc_install"]
            if rng.random() < 0.3:
                skills.append("fibre_splicing")
            return rng.choice((60, 60, 75, 90, 120)), sorted(skills), 1
        if kind == JobKind.PLAN_CHANGE:
            skills = ["mc_install", "router_config"]
            minutes = rng.choice((60, 60, 75, 90))
            if rng.random() < 0.25:  # a faster plan needs new fibre to the customer
                skills.append("fibre_splicing")
                minutes += 45
            return minutes, sorted(skills), 1 if rng.random() < 0.7 else 2
        # New line or relocation: built from the survey.
        skills = ["fibre_splicing", "mc_install"]
        minutes = 90 if kind == JobKind.NEW_LINE else 120
        distance = survey.distance_to_base_station_m
        if rng.random() < 0.5 or distance > 800:
            skills.append("aerial_cabling")
            if distance > 1200:
                skills.append("high_reach")
        if survey.conduit_status == ConduitStatus.NONE:
            skills += (
                ["indoor_wiring", "core_drilling"] if rng.random() < 0.4 else ["indoor_wiring"]
            )
            minutes += 60
        elif survey.conduit_status == ConduitStatus.FULL:
            skills.append("riser_cabling")
            minutes += 40
        elif floors >= 3:
            skills.append("riser_cabling")
        if distance > 1000:
            minutes += 60
        elif distance > 500:
            minutes += 30
        if floors > 15:
            minutes += 20
        if "core_drilling" in skills:
            minutes += 30
        if kind == JobKind.RELOCATION or rng.random() < 0.25:
            skills.append("router_config")
        if fact.site.building_type == BuildingType.RETAIL and rng.random() < 0.5:
            skills.append("night_work")
        minutes = max(60, min(240, round(minutes / 15) * 15 + rng.choice((0, 0, 15, 30))))
        members = 3 if (survey.conduit_status == ConduitStatus.NONE and distance > 1000) else 2
        if kind == JobKind.RELOCATION and rng.random() < 0.3:
            members = 3
        return minutes, sorted(set(skills)), members

    def _instructions(self, fact: _SiteFacts, survey: SiteSurvey, skills: list[str]) -> str:
        rng = self.rng
        floor = rng.randint(1, fact.site.floors or 1)
        if fact.kind == JobKind.MAINTENANCE:
            return (
                f"お客様より「{rng.choice(MAINTENANCE_SYMPTOMS)}」との申告（サポート受付）。"
                "MC の LINK/ALM ランプ確認、光レベル測定、必要に応じて MC 交換。"
                "お客様側ネットワークの問題と判明した場合は作業せず、状況を報告。"
            )
        if fact.kind == JobKind.PLAN_CHANGE:
            old, new = rng.choice((("1G", "2G"), ("1G", "10G"), ("100M 帯域確保", "1G 帯域確保")))
            text = (
                f"契約コース変更（{old} → {new}）。MC 交換およびルーター設定変更。"
                "作業中 30分程度の通信断あり（お客様了承済）。"
            )
            if "fibre_splicing" in skills:
                text += "MDF室から宅内まで光コード張替え。"
            return text
        text = (
            f"基地局（{fact.town.name}局）から光ケーブル"
            f"約{survey.distance_to_base_station_m}m 引込。{survey.riser_route}。"
            f"{floor}F お客様事務所内に MC 設置、"
            "開通試験後お客様ルーター接続まで確認。"
        )
        if "core_drilling" in skills:
            text += f"{floor}F 床スラブ コア抜き1箇所（φ50、管理会社立会い）。"
        if "night_work" in skills:
            text += "店舗営業前の早朝作業。"
        if fact.kind == JobKind.RELOCATION and fact.old_site is not None:
            text += f"移転に伴う新拠点の開通。旧拠点（{fact.old_site.address}）の撤去は別日。"
        if survey.access_rules:
            text += f"入館：{survey.access_rules}。"
        return text

    def _dates(self, fact: _SiteFacts, status: str) -> dict[str, object]:
        """Earliest date, due date (hard or soft), preferred and unavailable days, priority."""
        rng = self.rng
        S = JobStatus
        week = self.week_days
        values: dict[str, object] = {
            "earliest_date": None,
            "due_date": None,
            "due_date_is_hard": False,
            "preferred_dates": [],
            "promise_is_hard": False,
            "unavailable_dates": [],
            "priority": rng.choice((2, 3, 3, 3, 4)),
        }
        if status in (S.COMPLETED, S.HANDED_OVER, S.INCOMPLETE, S.CANCELLED):
            values["due_date"] = self.field_week[-1] + dt.timedelta(days=rng.randint(0, 10))
            return values
        if status in (S.NEW, S.SURVEYED, S.AWAITING_PERMISSION):
            values["due_date"] = self.week_start + dt.timedelta(days=rng.randint(10, 40))
            return values
        # Ready: this is what the planner sees for the coming week.
        if fact.kind == JobKind.MAINTENANCE:
            values["due_date"] = week[rng.randint(0, 4)]
            values["due_date_is_hard"] = rng.random() < 0.3
            values["priority"] = rng.choice((4, 4, 5))
        elif fact.kind == JobKind.RELOCATION:
            # The move-in date is a promise: the new office needs its line on day one.
            values["due_date"] = self.week_start + dt.timedelta(days=rng.randint(2, 11))
            values["due_date_is_hard"] = True
            values["priority"] = 4
        else:
            in_week = rng.random() < 0.3
            values["due_date"] = (
                week[rng.randint(1, 4)]
                if in_week
                else self.week_start + dt.timedelta(days=rng.randint(7, 28))
            )
            values["due_date_is_hard"] = in_week and rng.random() < 0.5
            if values["due_date_is_hard"]:
                values["priority"] = 4
            elif rng.random() < 0.05:
                values["priority"] = 1
        due = values["due_date"]
        assert isinstance(due, dt.date)
        if rng.random() < 0.15:
            values["earliest_date"] = min(week[rng.randint(1, 3)], due)
        elif rng.random() < 0.5:
            values["earliest_date"] = self.history_until
        earliest = values["earliest_date"]
        if rng.random() < 0.25:
            last_weekday = 5 if rng.random() < 0.1 else 4
            choices = [
                day
                for day in week[: last_weekday + 1]
                if day <= due and (not isinstance(earliest, dt.date) or day >= earliest)
            ]
            picked = sorted(rng.sample(choices, min(len(choices), rng.choice((1, 2)))))
            values["preferred_dates"] = [day.isoformat() for day in picked]
            # Some customers were promised the day (hard), most only asked (soft).
            values["promise_is_hard"] = bool(picked) and rng.random() < 0.3
        elif rng.random() < 0.1:
            values["unavailable_dates"] = [week[rng.randint(0, 4)].isoformat()]
        return values

    def _crew_for(
        self,
        fact: _SiteFacts,
        skills: list[str],
        members: int,
        crews: list[Crew],
        companies_by_region: dict[str, list[int]],
    ) -> Crew:
        """The crew of a past visit: its company covers the region, and it is skilled if any is."""
        local = [crew for crew in crews if crew.company_id in companies_by_region[fact.area.region]]
        able = [
            crew
            for crew in local
            if set(skills) <= self.crew_skills[crew.pk] and crew.members >= members
        ]
        return self.rng.choice(able or local)

    def jobs(
        self,
        world: _World,
        skills: dict[str, Skill],
        crews: list[Crew],
        partner_users: dict[int, User],
        coordinator: User,
    ) -> list[Job]:
        rng = self.rng
        S = JobStatus
        companies_by_region: dict[str, list[int]] = {code: [] for code, _ in REGIONS}
        for company in PartnerCompany.objects.order_by("pk").prefetch_related("regions"):
            for region in sorted(company.regions.all(), key=lambda r: r.code):
                companies_by_region[region.code].append(company.pk)

        surveys: list[SiteSurvey] = []
        permissions: list[Permission] = []
        drafts: list[
            tuple[_SiteFacts, Job, list[str], list[str], list[dt.datetime], Crew | None]
        ] = []
        job_sites = world.job_sites[:]
        rng.shuffle(job_sites)
        for number, fact in enumerate(job_sites, start=1):
            target = fact.target_status
            is_new_building = fact.kind in (JobKind.NEW_LINE, JobKind.RELOCATION)
            if is_new_building:
                fact.needs_permission = (
                    fact.site.building_type != BuildingType.DETACHED or rng.random() < 0.3
                )
            elif fact.kind == JobKind.PLAN_CHANGE:
                fact.needs_permission = rng.random() < 0.3
            path = self._path(fact)
            # What the crew will be told comes from the survey of the building:
            # a fresh one once the job is surveyed, else the one from when the
            # line was built (none yet for a building not surveyed).
            if S.SURVEYED in path:
                fact.survey = (
                    self._resurvey(fact.survey, self.history_until)
                    if fact.survey
                    else self._survey(fact, self.history_until, fact.contract)
                )
                surveys.append(fact.survey)
            survey = fact.survey
            # Not surveyed yet: sales' rough estimate stands in, as if from a provisional survey.
            estimate_from = survey or self._survey(fact, self.history_until, None)
            duration, skill_codes, members = self._duration_and_skills(fact, estimate_from)
            ordered_at, times = self._timeline(path, duration)
            if survey is not None and S.SURVEYED in path:
                survey.surveyed_on = times[path.index(S.SURVEYED)].date()
            fact_dates = self._dates(fact, S.READY if target == READY_AFTER_INCOMPLETE else target)
            final_status = path[-1] if path else S.NEW.value
            # The customer's arrival slot: asked for by some maintenance
            # customers and by some who named their dates.
            window: tuple[dt.time | None, dt.time | None] = (None, None)
            wants_slot = fact.kind == JobKind.MAINTENANCE or fact_dates["preferred_dates"]
            if wants_slot and rng.random() < 0.3:
                window = TIME_SLOTS[rng.choice(("am", "pm"))]
            job = Job(
                reference=f"J-{self.week_start.year}-{number:05d}",
                kind=fact.kind,
                site=fact.site,
                contract=fact.contract,
                status=final_status,
                duration_minutes=duration,
                members_needed=members,
                window_start=window[0],
                window_end=window[1],
                capacity_units=(2 if survey and survey.distance_to_base_station_m > 800 else 1)
                if is_new_building
                else 0,
                work_instructions=self._instructions(fact, estimate_from, skill_codes),
                parking_arrangement=survey.parking_arrangement if survey else "",
                version=1 + len(path),
                status_changed_at=times[-1] if times else ordered_at,
                **fact_dates,
            )
            crew = None
            if S.IN_PROGRESS in path:
                crew = self._crew_for(fact, skill_codes, members, crews, companies_by_region)
            drafts.append((fact, job, skill_codes, path, times, crew))
            permissions += self._job_permissions(fact, path, times)

        SiteSurvey.objects.bulk_create(surveys)
        _sites_take_survey_access(surveys)
        Permission.objects.bulk_create(permissions)
        jobs = Job.objects.bulk_create([job for _, job, _, _, _, _ in drafts])
        through = Job.required_skills.through
        through.objects.bulk_create(
            through(job_id=job.pk, skill_id=skills[code].pk)
            for (_, job, codes, _, _, _) in drafts
            for code in codes
        )
        self._histories_and_reports(drafts, partner_users, coordinator)
        return jobs

    def _job_permissions(
        self, fact: _SiteFacts, path: list[str], times: list[dt.datetime]
    ) -> list[Permission]:
        """Permissions consistent with where the job stands: pending while it awaits them,
        all granted by the moment it became ready, a refusal behind a cancellation."""
        S = JobStatus
        if fact.kind == JobKind.MAINTENANCE or S.SURVEYED not in path:
            return []
        if fact.kind == JobKind.PLAN_CHANGE and not fact.needs_permission:
            return []
        surveyed_on = times[path.index(S.SURVEYED)].date()
        if S.AWAITING_PERMISSION not in path:
            if S.READY in path:
                return self._permissions(fact, [PermissionParty.CUSTOMER], surveyed_on, surveyed_on)
            return []  # surveyed: permissions not asked for yet
        parties = self._needed_parties(fact)
        if fact.kind == JobKind.PLAN_CHANGE:
            parties = [p for p in parties if p != PermissionParty.CUSTOMER] or [
                PermissionParty.MANAGEMENT
            ]
        requested_on = times[path.index(S.AWAITING_PERMISSION)].date()
        if S.READY in path:
            ready_on = times[path.index(S.READY)].date()
            return self._permissions(fact, parties, requested_on, ready_on)
        if S.CANCELLED in path:
            refused = [PermissionParty.OWNER] if PermissionParty.OWNER in parties else [parties[-1]]
            decided = times[path.index(S.CANCELLED)].date()
            return self._permissions(fact, parties, requested_on, decided, refused=refused)
        # Still awaiting: the last party has not answered (now and then one said no).
        blocking = parties[-1]
        if self.rng.random() < 0.15:
            return self._permissions(
                fact,
                parties,
                requested_on,
                self.history_until - dt.timedelta(days=3),
                refused=[blocking],
            )
        return self._permissions(
            fact,
            parties,
            requested_on,
            self.history_until - dt.timedelta(days=3),
            pending=[blocking],
        )

    def _histories_and_reports(
        self,
        drafts: list[tuple[_SiteFacts, Job, list[str], list[str], list[dt.datetime], Crew | None]],
        partner_users: dict[int, User],
        coordinator: User,
    ) -> None:
        """Status changes for every step, the crew's reports, as-built notes of finished work."""
        rng = self.rng
        S = JobStatus
        notes: dict[str, str] = {
            S.SURVEYED: "現地調査完了",
            S.AWAITING_PERMISSION: "管理会社・オーナーへ工事許諾を申請",
            S.READY: "必要な許諾がそろい計画可能",
            S.SCHEDULED: "週次計画に割当",
            S.DISPATCHED: "協力会社へ計画を送付",
            S.IN_PROGRESS: "作業開始",
            S.COMPLETED: "作業完了",
            S.INCOMPLETE: "作業未完了で報告",
            S.HANDED_OVER: "IP アドレス払出・口座振替設定済、お客様へ引渡し",
            S.CANCELLED: "許諾が得られずお客様都合によりキャンセル",
        }
        changes: list[JobStatusChange] = []
        reports: list[JobReport] = []
        records: list[ConstructionRecord] = []
        for fact, job, _skills, path, times, crew in drafts:
            previous = S.NEW.value
            crew_user = partner_users[crew.company_id] if crew else None
            for index, (status, moment) in enumerate(zip(path, times, strict=True)):
                by_crew = status in (S.IN_PROGRESS, S.COMPLETED, S.INCOMPLETE)
                note = notes[status]
                if status == S.READY and previous == S.INCOMPLETE:
                    note = "未完了分を再計画のためキューへ戻す"
                elif status == S.READY and job.kind == JobKind.MAINTENANCE:
                    note = "サポートからの保守依頼を受付"
                elif status == S.READY and S.AWAITING_PERMISSION not in path[:index]:
                    note = "追加の工事許諾は不要のため計画可能"
                changes.append(
                    JobStatusChange(
                        job=job,
                        from_status=previous,
                        to_status=status,
                        changed_by=crew_user if by_crew else coordinator,
                        note=note,
                        changed_at=moment,
                    )
                )
                if status == S.IN_PROGRESS and crew is not None:
                    reports.append(
                        JobReport(
                            job=job,
                            crew=crew,
                            kind=ReportKind.STARTED,
                            occurred_at=moment,
                            reported_by=crew_user,
                        )
                    )
                if status == S.COMPLETED and crew is not None:
                    reports.append(
                        JobReport(
                            job=job,
                            crew=crew,
                            kind=ReportKind.COMPLETED,
                            occurred_at=moment,
                            reported_by=crew_user,
                        )
                    )
                    if fact.survey is not None and job.kind != JobKind.MAINTENANCE:
                        record = self._as_built(
                            fact,
                            fact.survey,
                            moment + dt.timedelta(minutes=rng.randint(20, 90)),
                            f"{crew.company.name} {crew.name}",
                        )
                        record.job = job
                        record.recorded_by = crew_user
                        records.append(record)
                if status == S.INCOMPLETE and crew is not None:
                    reason, text = rng.choice(INCOMPLETE_STORIES)
                    reports.append(
                        JobReport(
                            job=job,
                            crew=crew,
                            kind=ReportKind.INCOMPLETE,
                            reason_code=reason,
                            reason_text=text,
                            occurred_at=moment,
                            reported_by=crew_user,
                        )
                    )
                previous = status
        JobStatusChange.objects.bulk_create(changes)
        JobReport.objects.bulk_create(reports)
        ConstructionRecord.objects.bulk_create(records)


def _sites_take_survey_access(surveys: Sequence[SiteSurvey]) -> None:
    """Each building's access is its newest survey's, as when a surveyor files one."""
    newest: dict[int, SiteSurvey] = {}
    for survey in surveys:
        current = newest.get(survey.site_id)
        if current is None or (survey.surveyed_on, survey.pk) > (current.surveyed_on, current.pk):
            newest[survey.site_id] = survey
    sites = []
    for survey in newest.values():
        site = survey.site
        site.access_hours, site.access_notes = survey.access_hours, survey.access_rules
        sites.append(site)
    Site.objects.bulk_update(sites, ["access_hours", "access_notes"])
