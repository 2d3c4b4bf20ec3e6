"""One search box over a million sites: a query string in, ranked sites out.

How it works, and why
---------------------
The operator types whatever the caller said: a contract or circuit id, a
phone number in any format, a name in kanji or kana, part of an address.
The query is normalised with the same functions that built the index
(:mod:`support.normalize`), then answered in two steps:

1. **Exact keys** (:class:`~support.models.SiteSearchKey`, a b-tree): the
   whole query as a contract/circuit id, as a phone number and as a name,
   looked up for equality and as a prefix. These are the answers that are
   certainly right (the caller read out their contract id) and they cost
   well under a millisecond each at any size, so they always run; an exact
   contract id, circuit id or phone number ends the search there.
2. **Substrings** (:class:`~support.models.SiteSearchEntry.document`): every
   word of the query must occur in the site's document (names, kana, the
   normalised address, phones, ids). On PostgreSQL the ``LIKE '%word%'``
   conditions are answered by a GIN trigram index (``pg_trgm``); on SQLite
   they are plain LIKE scans, which are correct and fast enough for an
   embedded install. At most :data:`TEXT_CANDIDATES` rows are read, so a
   query that matches half of Tokyo costs the same as one that matches a
   single building, and the answer says it was truncated. The candidates
   are read without joins and with sequential scans disabled, because
   pg_trgm's row estimates for ``LIKE '%…%'`` mislead the planner (see
   :func:`_text_candidates`).

Words shorter than three characters cannot use a trigram index (a substring
search for "山田" over a million rows would scan them all and return
thousands of hits anyway): they match names and ids only by their *start*
(step 1), and narrow down longer words in step 2.

The candidates of both steps are ranked in Python by one table of tiers
(exact id > exact phone > id/phone prefix > exact name > name prefix >
name substring > phone ending > phone/address substring; with several
words, the weakest word's tier), within a tier by how strong the words'
fields were and by trigram similarity, then by site id, so the order is the
same on both databases.

Why not ``similarity()`` ordering or a GiST index in SQL: ordering a
million rows by similarity costs a scan of every row the ``%`` operator
lets through, which for a common word is most of the table; GiST's
nearest-neighbour search is slower to build and to query than GIN on
text this short. The tiers give "the best match first" in the sense an
operator means it; similarity only orders within a tier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from observability import metrics
from sites.models import Customer
from sites.normalize import (
    looks_like_id,
    looks_like_phone,
    normalize_address,
    normalize_id,
    normalize_name_key,
    normalize_phone,
    normalize_text,
    query_tokens,
)
from stamps.cache import cached

from .indexing import (
    CALLER_KEY,
    CALLER_PHONE_KEY,
    CONTACT_KEY,
    person_keys,
    search_stamp,
    site_callers,
)
from .models import SearchKeyKind, SiteSearchEntry, SiteSearchKey

#: Text matches read before ranking; more means the query should be narrowed.
TEXT_CANDIDATES = 200
#: Prefix matches read per key form.
PREFIX_CANDIDATES = 50
#: A trigram index needs three characters to narrow a LIKE '%word%' down.
MIN_SUBSTRING_LENGTH = 3
#: Phone and id prefixes shorter than this match too much to mean anything.
MIN_NUMBER_PREFIX_LENGTH = 4
MAX_QUERY_LENGTH = 200

TIER_EXACT_ID = 100
TIER_EXACT_PHONE = 95
TIER_ID_PREFIX = 80
TIER_PHONE_PREFIX = 75
TIER_EXACT_NAME = 70
TIER_NAME_PREFIX = 60
TIER_NAME_SUBSTRING = 50
TIER_PHONE_SUFFIX = 48
TIER_PHONE_SUBSTRING = 45
TIER_ADDRESS = 40
TIER_ID_SUBSTRING = 35
TIER_ANYWHERE = 30


class Matched:
    """Why a site was found, shown to the operator next to the hit."""

    CONTRACT = "contract"
    CIRCUIT = "circuit"
    PHONE = "phone"
    NAME = "name"
    CONTACT = "contact"
    """A customer's contact person, or a caller (name or phone) from the site's call log."""
    ADDRESS = "address"
    TEXT = "text"
    ALL = (CONTRACT, CIRCUIT, PHONE, NAME, CONTACT, ADDRESS, TEXT)


@dataclass(frozen=True)
class SearchHit:
    site_id: int
    name: str
    address: str
    customers: str
    contracts: str
    phones: str
    matched: str
    score: float
    matched_text: str = ""
    """Who matched, as written, when ``matched`` is a contact: "林 健太", "林 健太 090-…"."""


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[SearchHit]
    truncated: bool
    """More sites matched than were read: add a word to narrow down."""


@dataclass(frozen=True)
class _KeyForms:
    phone: str
    identifier: str
    name: str

    def all(self) -> list[str]:
        return [form for form in (self.phone, self.identifier, self.name) if form]

    def prefixable(self) -> list[str]:
        forms = [f for f in (self.phone, self.identifier) if len(f) >= MIN_NUMBER_PREFIX_LENGTH]
        return list(dict.fromkeys([*forms, *([self.name] if self.name else [])]))


def _key_forms(query: str) -> _KeyForms:
    return _KeyForms(
        phone=normalize_phone(query) if looks_like_phone(query) else "",
        identifier=normalize_id(query) if looks_like_id(query) else "",
        name=normalize_name_key(query),
    )


def _token_variants(token: str) -> list[str]:
    """The spellings one word of the query may have in a document."""
    variants = [normalize_text(token), normalize_address(token)]
    if looks_like_phone(token):
        variants.append(normalize_phone(token))
    if looks_like_id(token):
        variants.append(normalize_id(token))
    return [v for v in dict.fromkeys(variants) if v]


def _key_matches(forms: _KeyForms) -> tuple[list[tuple[int, str, str, bool]], bool]:
    """(site id, kind, value, exact) of keys equal to or starting with a form of the query,
    and whether a lookup stopped at its cap (a name shared by many customers)."""
    found: list[tuple[int, str, str, bool]] = []
    capped = False
    exact = forms.all()
    if exact:
        rows = SiteSearchKey.objects.filter(value__in=exact).values_list("site_id", "kind", "value")
        batch = list(rows[:PREFIX_CANDIDATES])
        capped |= len(batch) == PREFIX_CANDIDATES
        found += [(site_id, kind, value, True) for site_id, kind, value in batch]
    for form in forms.prefixable():
        # No ORDER BY: the index scan stops after PREFIX_CANDIDATES rows.
        rows = (
            SiteSearchKey.objects.filter(value__startswith=form)
            .exclude(value=form)
            .values_list("site_id", "kind", "value")
        )
        batch = list(rows[:PREFIX_CANDIDATES])
        capped |= len(batch) == PREFIX_CANDIDATES
        found += [(site_id, kind, value, False) for site_id, kind, value in batch]
    return found, capped


def _text_condition(tokens: list[str]) -> Q | None:
    """Every word somewhere in the document; None when no word can use the index."""
    variants = [_token_variants(token) for token in tokens]
    if not any(max(map(len, v), default=0) >= MIN_SUBSTRING_LENGTH for v in variants):
        return None
    per_token = [reduce(or_, (Q(document__contains=v) for v in vs)) for vs in variants if vs]
    return reduce(and_, per_token) if per_token else None


#: What ranking reads of a substring candidate (no join: see :func:`_text_candidates`).
_CANDIDATE_FIELDS = ("site_id", "names", "address", "phones", "ids")


@dataclass(frozen=True)
class _Candidate:
    site_id: int
    names: str
    address: str
    phones: str
    ids: str


def _text_candidates(condition: Q, limit: int) -> list[_Candidate]:
    """Up to ``limit`` entries whose document holds every word.

    On PostgreSQL the planner is told not to scan: pg_trgm estimates
    ``LIKE '%word%'`` far too high (thousands of rows for a name that occurs
    a dozen times), so with a LIMIT the planner prefers walking a whole table
    or primary key, hoping to hit the limit early, and reads a million rows
    when the matches are rare. The GIN index is always the right path here.
    The query reads the entry alone: joining the site for its name made the
    planner walk both primary keys in step (a merge join), for the same reason.
    """
    rows = SiteSearchEntry.objects.filter(condition).values_list(*_CANDIDATE_FIELDS)[:limit]
    if connection.vendor != "postgresql":
        return [_Candidate(*row) for row in rows]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return [_Candidate(*row) for row in rows]


def _token_tier(candidate: _Candidate, variants: list[str]) -> tuple[int, str]:
    """The strongest field one word of the query occurs in."""
    if any(v in candidate.names for v in variants):
        return TIER_NAME_SUBSTRING, Matched.NAME
    if any(v in candidate.phones for v in variants):
        # "The last four digits are 5678" is how people quote numbers.
        ends = any(p.endswith(v) for p in candidate.phones.split(" ") for v in variants)
        return (TIER_PHONE_SUFFIX if ends else TIER_PHONE_SUBSTRING), Matched.PHONE
    if any(v in candidate.address for v in variants):
        return TIER_ADDRESS, Matched.ADDRESS
    if any(v in candidate.ids for v in variants):
        return TIER_ID_SUBSTRING, Matched.CONTRACT
    return TIER_ANYWHERE, Matched.TEXT


def _text_score(
    candidate: _Candidate, variants: list[list[str]], query_grams: set[str]
) -> tuple[int, str, float]:
    """(tier, why, closeness 0..1) of a substring hit.

    The tier is the weakest word's (every word must count), the reason the
    strongest word's (what the operator recognises); closeness mixes how
    strong the words' fields were with the trigram similarity of the query
    to the closest name or address.
    """
    tiers = [_token_tier(candidate, token_variants) for token_variants in variants]
    tier = min(t for t, _ in tiers)
    why = max(tiers)[1]
    strength = sum(t for t, _ in tiers) / (len(tiers) * TIER_NAME_SUBSTRING)
    parts = [*candidate.names.split(" "), candidate.address]
    similarity = max((_similarity(query_grams, part) for part in parts), default=0.0)
    return tier, why, 0.5 * strength + 0.5 * similarity


def _key_tier(kind: str, exact: bool) -> tuple[int, str]:
    if kind in (SearchKeyKind.CONTRACT, SearchKeyKind.CIRCUIT):
        return (TIER_EXACT_ID if exact else TIER_ID_PREFIX), str(kind)
    if kind == SearchKeyKind.PHONE:
        return (TIER_EXACT_PHONE if exact else TIER_PHONE_PREFIX), Matched.PHONE
    if kind == CALLER_PHONE_KEY:
        return (TIER_EXACT_PHONE if exact else TIER_PHONE_PREFIX), Matched.CONTACT
    if kind in (CONTACT_KEY, CALLER_KEY):
        return (TIER_EXACT_NAME if exact else TIER_NAME_PREFIX), Matched.CONTACT
    return (TIER_EXACT_NAME if exact else TIER_NAME_PREFIX), Matched.NAME


def _is_name_kind(kind: str) -> bool:
    return kind in (SearchKeyKind.NAME, CONTACT_KEY, CALLER_KEY)


def _contact_texts(matches: dict[int, tuple[str, str]]) -> dict[int, str]:
    """``site id -> the contact as written`` for hits found by a contact key ``(kind, value)``.

    The index keeps only normalised keys, so the people are read back from
    their sources: the customers' contact persons (one query) and, when a
    caller matched, the callers of the sites' call logs (two queries).
    """
    found: dict[int, str] = {}
    contacts = {site_id: key for site_id, key in matches.items() if key[0] == CONTACT_KEY}
    if contacts:
        rows = Customer.objects.filter(contracts__sites__in=list(contacts)).values_list(
            "contracts__sites", "contact_person"
        )
        for site_id, person in rows:
            if site_id not in found and contacts[site_id][1] in person_keys(person):
                found[site_id] = person
    callers = {site_id: key for site_id, key in matches.items() if key[0] != CONTACT_KEY}
    if callers:
        for site_id, pairs in site_callers(list(callers)).items():
            kind, value = callers[site_id]
            for name, phone in pairs:
                if kind == CALLER_PHONE_KEY and normalize_phone(phone) == value:
                    found[site_id] = f"{name} {phone}".strip()
                    break
                if kind == CALLER_KEY and value in person_keys(name):
                    found[site_id] = name
                    break
    return found


def _grams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _similarity(query_grams: set[str], text: str) -> float:
    if not query_grams or not text:
        return 0.0
    grams = _grams(text)
    return len(query_grams & grams) / len(query_grams | grams)


def site_search(query: str, *, limit: int = 20) -> SearchResult:
    """Sites matching ``query``, best first (see the module docstring for the ranking).

    At most six small queries: exact keys, up to three key prefixes, the
    substring candidates, and the names and addresses of the hits shown;
    up to three more when a hit was found by a contact person or a caller,
    to show who (:func:`_contact_texts`).
    An exact contract id, circuit id or phone number is certain enough that
    the substring step is skipped.
    """
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    tokens = query_tokens(query)
    if not tokens:
        return SearchResult(query=query, hits=[], truncated=False)
    forms = _key_forms(query)
    best: dict[int, tuple[float, str]] = {}
    person_key: dict[int, tuple[str, str]] = {}  # site id -> the contact key it was found by

    def consider(
        site_id: int, tier: int, why: str, closeness: float, key: tuple[str, str] | None = None
    ) -> None:
        score = tier + round(9 * closeness, 3)
        if site_id not in best or score > best[site_id][0]:
            best[site_id] = (score, why)
            if key is None:
                person_key.pop(site_id, None)
            else:
                person_key[site_id] = key

    key_matches, truncated = _key_matches(forms)
    certain = False
    for site_id, kind, value, exact in key_matches:
        tier, why = _key_tier(kind, exact)
        form = forms.name if _is_name_kind(kind) else value
        closeness = 1.0 if exact else len(form) / max(len(value), 1)
        consider(site_id, tier, why, closeness, (kind, value) if why == Matched.CONTACT else None)
        certain |= exact and not _is_name_kind(kind)

    condition = None if certain else _text_condition(tokens)
    if condition is not None:
        variants = [_token_variants(token) for token in tokens]
        query_grams = _grams(normalize_text(query))
        found = _text_candidates(condition, TEXT_CANDIDATES + 1)
        truncated |= len(found) > TEXT_CANDIDATES
        for candidate in found[:TEXT_CANDIDATES]:
            consider(candidate.site_id, *_text_score(candidate, variants, query_grams))

    ranked = sorted(best, key=lambda site_id: (-best[site_id][0], site_id))[:limit]
    shown = {
        row[0]: row
        for row in SiteSearchEntry.objects.filter(site_id__in=ranked).values_list(
            "site_id",
            "site__name",
            "site__address",
            "customer_display",
            "contract_display",
            "phone_display",
        )
    }
    contacts = _contact_texts({s: person_key[s] for s in ranked if s in person_key})
    hits = [
        SearchHit(
            *shown[site_id],
            matched=best[site_id][1],
            score=best[site_id][0],
            matched_text=contacts.get(site_id, ""),
        )
        for site_id in ranked
        if site_id in shown
    ]
    return SearchResult(query=query, hits=hits, truncated=truncated)


def trigram_similarity(a: str, b: str) -> float:
    """Shared trigrams over all trigrams (0..1), like pg_trgm's ``similarity()``."""
    return _similarity(_grams(a), b) if a else 0.0


def site_ids(result: SearchResult) -> Iterable[int]:
    """The ids of the hits, best first (handy in tests and the benchmark)."""
    return [hit.site_id for hit in result.hits]


def cached_site_search(query: str, *, limit: int = 20) -> SearchResult:
    """:func:`site_search`, answered from the cache while the index has not changed.

    During a call an operator types, corrects and types again, and a whole
    desk searches for the same building when it has an outage: the same query
    comes back many times. The key names the index's change counter
    (:func:`support.indexing.search_stamp`, read first, bumped after every
    reindex commits), so a cached answer is never older than the index. The
    cache is an optimisation only: unreachable, the search runs as before.
    """
    seconds = settings.SEARCH_CACHE_SECONDS
    if seconds <= 0:
        return site_search(query, limit=limit)
    digest = hashlib.blake2b(query.encode("utf-8", "replace"), digest_size=16).hexdigest()
    key = f"site-search.v1:{search_stamp()}:{limit}:{digest}"
    result, hit = cached(key, seconds, lambda: site_search(query, limit=limit))
    metrics.representation_served("site_search", hit=hit)
    return result
