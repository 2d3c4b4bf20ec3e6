"""Support search at 1,000,000 sites: latency of ``support.search.site_search`` on PostgreSQL.

Usage::

    taskset -c 0 .venv/bin/python -m benchmarks.support_search run --sites 1000000

Creates (or reuses) the database ``dispatch_bench_support`` on the local
PostgreSQL server (127.0.0.1:5432, user postgres), migrates it, and fills it
with ``--sites`` buildings, one customer and one contract each, plus their
search entries and keys. The rows are generated in Python with the same
normalisers the application uses (``support.indexing.index_values``), so
the index holds exactly what production would, and streamed in with
``COPY`` (secondary indexes dropped during the load and rebuilt after,
``session_replication_role = replica`` so foreign keys are not checked row
by row). A load is skipped when the database already holds that many sites.

Then a mixed query set, drawn from the generated rows and spelled the way
operators type (phones with odd separators, full-width digits or +81; kana
in hiragana, half-width or katakana; contract ids in lower case; partial
addresses with 丁目 or dashes; names with a ward) runs through the same
``site_search`` the API calls: p50/p95/p99 per kind and overall, and
whether the site the query was drawn from came back (in the top 20). A
smaller set also goes through the API (Django test client, in-process HTTP
handling, JSON rendering) for one end-to-end figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

DB_NAME = "dispatch_bench_support"
SERVER = "postgres://postgres@127.0.0.1:5432"
RESULTS = Path(__file__).resolve().parent / "results"

# --------------------------------------------------------------------------
# Reference tables for the generator (deterministic, Tokyo area)
# --------------------------------------------------------------------------

#: (prefecture, city, town, town kana, postal prefix)
TOWNS = (
    ("東京都", "港区", "芝浦", "シバウラ", "108"),
    ("東京都", "港区", "三田", "ミタ", "108"),
    ("東京都", "港区", "六本木", "ロッポンギ", "106"),
    ("東京都", "港区", "新橋", "シンバシ", "105"),
    ("東京都", "千代田区", "丸の内", "マルノウチ", "100"),
    ("東京都", "千代田区", "霞が関", "カスミガセキ", "100"),
    ("東京都", "千代田区", "神田錦町", "カンダニシキチョウ", "101"),
    ("東京都", "中央区", "銀座", "ギンザ", "104"),
    ("東京都", "中央区", "日本橋", "ニホンバシ", "103"),
    ("東京都", "新宿区", "西新宿", "ニシシンジュク", "160"),
    ("東京都", "新宿区", "高田馬場", "タカダノババ", "169"),
    ("東京都", "渋谷区", "道玄坂", "ドウゲンザカ", "150"),
    ("東京都", "渋谷区", "恵比寿", "エビス", "150"),
    ("東京都", "品川区", "大崎", "オオサキ", "141"),
    ("東京都", "品川区", "東品川", "ヒガシシナガワ", "140"),
    ("東京都", "江東区", "豊洲", "トヨス", "135"),
    ("東京都", "江東区", "亀戸", "カメイド", "136"),
    ("東京都", "台東区", "上野", "ウエノ", "110"),
    ("東京都", "墨田区", "錦糸", "キンシ", "130"),
    ("東京都", "豊島区", "東池袋", "ヒガシイケブクロ", "170"),
    ("東京都", "大田区", "蒲田", "カマタ", "144"),
    ("東京都", "世田谷区", "三軒茶屋", "サンゲンジャヤ", "154"),
    ("東京都", "立川市", "曙町", "アケボノチョウ", "190"),
    ("東京都", "八王子市", "旭町", "アサヒチョウ", "192"),
    ("神奈川県", "横浜市西区", "みなとみらい", "ミナトミライ", "220"),
    ("神奈川県", "横浜市港北区", "新横浜", "シンヨコハマ", "222"),
    ("神奈川県", "川崎市川崎区", "駅前本町", "エキマエホンチョウ", "210"),
    ("埼玉県", "さいたま市大宮区", "桜木町", "サクラギチョウ", "330"),
    ("千葉県", "千葉市中央区", "富士見", "フジミ", "260"),
    ("千葉県", "船橋市", "本町", "ホンチョウ", "273"),
)
SURNAMES = (
    ("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"),
    ("田中", "タナカ"), ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山本", "ヤマモト"),
    ("松本", "マツモト"), ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"),
    ("斎藤", "サイトウ"), ("清水", "シミズ"), ("山口", "ヤマグチ"), ("森", "モリ"),
    ("池田", "イケダ"), ("橋本", "ハシモト"), ("阿部", "アベ"), ("石川", "イシカワ"),
    ("前田", "マエダ"), ("藤田", "フジタ"), ("小川", "オガワ"), ("岡田", "オカダ"),
    ("後藤", "ゴトウ"), ("長谷川", "ハセガワ"), ("村上", "ムラカミ"), ("近藤", "コンドウ"),
)  # fmt: skip
BRANDS = (
    ("アーク", "アーク"), ("ネクスト", "ネクスト"), ("ブルー", "ブルー"), ("サン", "サン"),
    ("グリーン", "グリーン"), ("スター", "スター"), ("ユニ", "ユニ"), ("トライ", "トライ"),
    ("東洋", "トウヨウ"), ("大和", "ヤマト"), ("日進", "ニッシン"), ("旭", "アサヒ"),
    ("富士", "フジ"), ("光陽", "コウヨウ"), ("明和", "メイワ"), ("昭栄", "ショウエイ"),
)  # fmt: skip
INDUSTRIES = (
    ("商事", "ショウジ"), ("電機", "デンキ"), ("建設", "ケンセツ"), ("工業", "コウギョウ"),
    ("物産", "ブッサン"), ("製作所", "セイサクショ"), ("不動産", "フドウサン"),
    ("設計事務所", "セッケイジムショ"), ("会計事務所", "カイケイジムショ"), ("歯科", "シカ"),
    ("クリニック", "クリニック"), ("テック", "テック"), ("システムズ", "システムズ"),
    ("ロジスティクス", "ロジスティクス"), ("デザイン", "デザイン"), ("食品", "ショクヒン"),
)  # fmt: skip
#: Middle words of company names (山田東京商事, ヤマダテクノ建設): with them about 46,000
#: distinct names share the million customers, a couple of dozen customers per name.
MIDDLES = (
    ("", ""), ("東京", "トウキョウ"), ("関東", "カントウ"), ("城南", "ジョウナン"),
    ("城北", "ジョウホク"), ("湾岸", "ワンガン"), ("武蔵野", "ムサシノ"), ("中央", "チュウオウ"),
    ("日本", "ニホン"), ("第一", "ダイイチ"), ("共栄", "キョウエイ"), ("協和", "キョウワ"),
    ("新日本", "シンニホン"), ("テクノ", "テクノ"), ("エンジニアリング", "エンジニアリング"),
    ("ホールディングス", "ホールディングス"), ("サービス", "サービス"), ("総合", "ソウゴウ"),
    ("産業", "サンギョウ"), ("興産", "コウサン"), ("メディカル", "メディカル"),
    ("ネット", "ネット"), ("トレーディング", "トレーディング"), ("リビング", "リビング"),
    ("ファーム", "ファーム"), ("オフィス", "オフィス"), ("パートナーズ", "パートナーズ"),
    ("ワークス", "ワークス"), ("ラボ", "ラボ"), ("コーポレーション", "コーポレーション"),
    ("グローバル", "グローバル"), ("ジャパン", "ジャパン"), ("アジア", "アジア"),
    ("横浜", "ヨコハマ"), ("千葉", "チバ"), ("埼玉", "サイタマ"), ("多摩", "タマ"),
    ("品川", "シナガワ"), ("銀座", "ギンザ"), ("丸の内", "マルノウチ"), ("新宿", "シンジュク"),
    ("渋谷", "シブヤ"), ("池袋", "イケブクロ"), ("上野", "ウエノ"), ("浅草", "アサクサ"),
    ("本郷", "ホンゴウ"), ("神田", "カンダ"), ("日本橋", "ニホンバシ"), ("川崎", "カワサキ"),
    ("大宮", "オオミヤ"), ("船橋", "フナバシ"), ("立川", "タチカワ"), ("八王子", "ハチオウジ"),
    ("三鷹", "ミタカ"), ("吉祥寺", "キチジョウジ"), ("目黒", "メグロ"), ("大森", "オオモリ"),
    ("蒲田", "カマタ"), ("錦糸町", "キンシチョウ"), ("亀戸", "カメイド"),
)  # fmt: skip
FORMS = (("株式会社", "prefix"), ("株式会社", "suffix"), ("有限会社", "prefix"), ("", ""))
BUILDINGS = (
    ("ビル", "ビル"), ("タワー", "タワー"), ("センタービル", "センタービル"), ("ハイツ", "ハイツ"),
    ("スクエア", "スクエア"), ("プラザ", "プラザ"), ("会館", "カイカン"), ("フロント", "フロント"),
)  # fmt: skip
AREA_CODES = ("03", "045", "044", "048", "043", "047", "042")
_KANJI_NUMERALS = "〇一二三四五六七八九"


def _kanji_number(n: int) -> str:
    if n < 10:
        return _KANJI_NUMERALS[n]
    tens, ones = divmod(n, 10)
    return (
        ("" if tens == 1 else _KANJI_NUMERALS[tens])
        + "十"
        + (_KANJI_NUMERALS[ones] if ones else "")
    )


def _site_facts(rng: random.Random, n: int) -> dict:
    pref, city, town, town_kana, postal = rng.choice(TOWNS)
    chome, banchi, go = rng.randint(1, 9), rng.randint(1, 30), rng.randint(1, 20)
    style = rng.random()
    if style < 0.4:
        tail = f"{chome}丁目{banchi}-{go}"
    elif style < 0.6:
        tail = f"{_kanji_number(chome)}丁目{banchi}番{go}号"
    elif style < 0.8:
        tail = f"{chome}-{banchi}-{go}"
    else:
        tail = f"{chome}丁目{banchi}番地{go}"
    brand, brand_kana = rng.choice(BRANDS + SURNAMES)
    building, building_kana = rng.choice(BUILDINGS)
    number = rng.choice(("", f"第{rng.randint(1, 9)}", ""))
    site_name = (
        f"{town}{brand}{number}{building}" if rng.random() < 0.5 else f"{brand}{town}{building}"
    )
    site_kana = "" if rng.random() < 0.3 else f"{town_kana}{brand_kana}{building_kana}"
    owner, owner_kana = rng.choice(SURNAMES + BRANDS)
    middle, middle_kana = rng.choice(MIDDLES)
    industry, industry_kana = rng.choice(INDUSTRIES)
    form, position = rng.choice(FORMS)
    base = f"{owner}{middle}{industry}"
    customer = f"{form}{base}" if position == "prefix" else f"{base}{form}"
    kana = f"{owner_kana}{middle_kana}{industry_kana}"
    kana = (
        kana
        if rng.random() < 0.8
        else "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in kana)
    )
    area = rng.choice(AREA_CODES)
    local = 10 - len(area)
    digits = f"{rng.randint(10 ** (local - 1) * 2, 10**local - 1)}"
    exchange, line = digits[:-4], digits[-4:]
    phone = rng.choice(
        (
            f"{area}-{exchange}-{line}",
            f"{area}{exchange}{line}",
            f"+81-{area[1:]}-{exchange}-{line}",
        )
    )
    mobile = (
        f"0{rng.choice('789')}0-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
        if rng.random() < 0.4
        else ""
    )
    contact = (
        f"{rng.choice(SURNAMES)[0]} {rng.choice(('太郎', '花子', '健一', '由美', '翔', '彩'))}"
    )
    return {
        "site_name": site_name[:200],
        "site_kana": site_kana[:200],
        "address": f"{pref}{city}{town}{tail}",
        "postal_code": f"{postal}{rng.randint(0, 9999):04d}",
        "prefecture": pref,
        "city": city,
        "customer": customer,
        "customer_kana": kana,
        "contact": contact,
        "phone": phone,
        "mobile": mobile,
        "contract_id": f"KN-{2015 + n % 11}-{n:07d}",
        "circuit_id": f"FTTH-{13 + n % 4}-{n:08d}" if rng.random() < 0.9 else None,
        "town": town,
        "town_kana": town_kana,
        "chome": chome,
        "banchi": banchi,
        "base": base,
    }


# --------------------------------------------------------------------------
# Django set-up against the benchmark database
# --------------------------------------------------------------------------


def _django(db_name: str) -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{db_name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # DEBUG off: with it on, Django keeps every query in memory and that costs time too.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DISPATCH_ALLOW_DEV_SECRET", "1")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _create_database(db_name: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db_name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db_name}"')


def _copy_text(value: object) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace("\r", " ")


class _Copier:
    """Buffers rows as COPY text and flushes them in large chunks."""

    def __init__(self, cursor: object, table: str, columns: tuple[str, ...]) -> None:
        self.cursor = cursor
        self.sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        self.buffer = io.StringIO()
        self.rows = 0

    def add(self, *values: object) -> None:
        self.buffer.write("\t".join(_copy_text(v) for v in values) + "\n")
        self.rows += 1
        if self.rows % 50_000 == 0:
            self.flush()

    def flush(self) -> None:
        data = self.buffer.getvalue()
        if data:
            with self.cursor.copy(self.sql) as copy:  # type: ignore[attr-defined]
                copy.write(data)
        self.buffer = io.StringIO()


LOADED_TABLES = (
    "support_sitesearchkey",
    "support_sitesearchentry",
    "sites_contract_sites",
    "sites_contract",
    "sites_customer",
    "sites_site",
)


def _secondary_indexes(cursor: object) -> list[tuple[str, str]]:
    """(name, definition) of every index on the loaded tables that no constraint owns."""
    cursor.execute(  # type: ignore[attr-defined]
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(LOADED_TABLES)],
    )
    return list(cursor.fetchall())  # type: ignore[attr-defined]


INDEX_FILE = Path(__file__).resolve().parent.parent / "var" / "bench_support_indexes.json"


def _remembered_indexes(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The indexes to rebuild after the load: those found now and any a killed load dropped.

    A load that dies between dropping and rebuilding (a server restart, Ctrl-C)
    would otherwise leave the next one without indexes to recreate, and the
    key lookups would scan seven million rows.
    """
    known = dict(json.loads(INDEX_FILE.read_text())) if INDEX_FILE.exists() else {}
    known.update(dict(found))
    INDEX_FILE.parent.mkdir(parents=True, exist_ok=True)
    INDEX_FILE.write_text(json.dumps(sorted(known.items()), indent=1))
    return sorted(known.items())


def load(sites: int, seed: int) -> dict:
    """Fill the benchmark database with ``sites`` generated sites; returns timings."""
    from django.db import connection

    from support.db import TRIGRAM_INDEX_SQL
    from support.indexing import index_values

    timings: dict[str, float] = {}
    started = time.monotonic()
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).isoformat()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        cursor.execute("TRUNCATE " + ", ".join(LOADED_TABLES) + " RESTART IDENTITY CASCADE")
        indexes = _remembered_indexes(_secondary_indexes(cursor))
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        cursor.execute("SET session_replication_role = replica")
        site_rows = _Copier(
            cursor,
            "sites_site",
            ("id", "name", "name_kana", "address", "postal_code", "prefecture", "city",
             "geocode_status", "geocode_error", "building_type", "notes", "created_at",
             "updated_at"),
        )  # fmt: skip
        customer_rows = _Copier(
            cursor,
            "sites_customer",
            (
                "id",
                "name",
                "name_kana",
                "contact_person",
                "phone",
                "phone_alt",
                "email",
                "created_at",
            ),
        )
        contract_rows = _Copier(
            cursor,
            "sites_contract",
            (
                "id",
                "customer_id",
                "contract_id",
                "circuit_id",
                "service_name",
                "status",
                "billing_status",
            ),
        )
        link_rows = _Copier(cursor, "sites_contract_sites", ("id", "contract_id", "site_id"))
        entry_rows = _Copier(
            cursor,
            "support_sitesearchentry",
            ("site_id", "names", "address", "phones", "ids", "document", "customer_display",
             "contract_display", "phone_display", "indexed_at"),
        )  # fmt: skip
        key_rows = _Copier(cursor, "support_sitesearchkey", ("site_id", "kind", "value"))
        for n in range(1, sites + 1):
            facts = _site_facts(rng, n)
            site_rows.add(
                n, facts["site_name"], facts["site_kana"], facts["address"], facts["postal_code"],
                facts["prefecture"], facts["city"], "pending", "", "office", "", now, now,
            )  # fmt: skip
            customer_rows.add(
                n, facts["customer"], facts["customer_kana"], facts["contact"], facts["phone"],
                facts["mobile"], "", now,
            )  # fmt: skip
            contract_rows.add(
                n, n, facts["contract_id"], facts["circuit_id"], "光ビジネス", "active", "ready"
            )
            link_rows.add(n, n, n)
            values = index_values(
                site_name=facts["site_name"],
                site_kana=facts["site_kana"] or facts["town_kana"],  # no dictionary lookups here
                address=facts["address"],
                postal_code=facts["postal_code"],
                contracts=[
                    (facts["contract_id"], facts["circuit_id"], facts["customer"],
                     facts["customer_kana"], facts["contact"], facts["phone"], facts["mobile"]),
                ],
            )  # fmt: skip
            entry_rows.add(
                n, " ".join(values.names), values.address, " ".join(values.phones),
                " ".join(values.ids), values.document, values.customer_display,
                values.contract_display, values.phone_display, now,
            )  # fmt: skip
            for kind, value in values.keys:
                key_rows.add(n, kind, value)
            if n % 100_000 == 0:
                print(f"  generated {n:,} sites ({time.monotonic() - started:.0f} s)", flush=True)
        for copier in (site_rows, customer_rows, contract_rows, link_rows, entry_rows, key_rows):
            copier.flush()
        cursor.execute("SET session_replication_role = DEFAULT")
        timings["generate_and_copy_s"] = round(time.monotonic() - started, 1)
        index_started = time.monotonic()
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for _name, definition in indexes:
            if "gin_trgm_ops" not in definition:
                cursor.execute(
                    definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                )
        timings["btree_indexes_s"] = round(time.monotonic() - index_started, 1)
        gin_started = time.monotonic()
        cursor.execute(TRIGRAM_INDEX_SQL)
        timings["trigram_index_s"] = round(time.monotonic() - gin_started, 1)
        for table in ("sites_site", "sites_customer", "sites_contract", "sites_contract_sites"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            cursor.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")
        cursor.execute("SELECT setval(pg_get_serial_sequence('support_sitesearchkey', 'id'), "
                       "(SELECT max(id) FROM support_sitesearchkey))")  # fmt: skip
        for table in LOADED_TABLES:
            cursor.execute(f"ANALYZE {table}")
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('support_sitesearchentry')), "
            "pg_size_pretty(pg_total_relation_size('support_sitesearchkey')), "
            "pg_size_pretty(pg_relation_size('support_entry_document_trgm'))"
        )
        entry_size, key_size, gin_size = cursor.fetchone()
    timings["total_load_s"] = round(time.monotonic() - started, 1)
    return {**timings, "entry_table": entry_size, "key_table": key_size, "trigram_index": gin_size}


# --------------------------------------------------------------------------
# Queries as operators type them
# --------------------------------------------------------------------------


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _half_width_kana(text: str) -> str:
    import jaconv

    return str(jaconv.z2h(text, kana=True, ascii=False, digit=False))


def _odd_phone(rng: random.Random, phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("81"):
        digits = "0" + digits[2:]
    area = 2 if digits.startswith("03") else 3
    parts = (digits[:area], digits[area:-4], digits[-4:])
    return rng.choice(
        (
            "-".join(parts),
            " ".join(parts),
            f"({parts[0]}){parts[1]}-{parts[2]}",
            _full_width("-".join(parts)).replace("-", "－"),
            f"+81 {parts[0][1:]} {parts[1]} {parts[2]}",
            digits,
        )
    )


def queries(count: int, sites: int, seed: int) -> list[tuple[str, str, int]]:
    """(kind, query, the site it was drawn from): a realistic mix of what callers give."""
    import jaconv

    picked = random.Random(seed + 1).sample(range(1, sites + 1), count)
    out = []
    rng = random.Random(seed + 2)
    # Regenerate the facts of the picked sites from the same random stream.
    wanted = set(picked)
    facts_of: dict[int, dict] = {}
    gen = random.Random(seed)
    for n in range(1, max(picked) + 1):
        facts = _site_facts(gen, n)
        if n in wanted:
            facts_of[n] = facts
    kinds = (
        ("phone", 0.25), ("contract_id", 0.15), ("circuit_id", 0.05), ("kana_name", 0.15),
        ("name_and_ward", 0.15), ("partial_address", 0.15), ("phone_last_digits", 0.10),
    )  # fmt: skip
    for n in picked:
        f = facts_of[n]
        roll, acc = rng.random(), 0.0
        kind = kinds[-1][0]
        for name, share in kinds:
            acc += share
            if roll < acc:
                kind = name
                break
        if kind == "phone":
            query = _odd_phone(
                rng, f["mobile"] if f["mobile"] and rng.random() < 0.3 else f["phone"]
            )
        elif kind == "contract_id":
            query = rng.choice(
                (f["contract_id"], f["contract_id"].lower(), f["contract_id"].replace("-", ""))
            )
        elif kind == "circuit_id":
            query = f["circuit_id"] or f["contract_id"]
        elif kind == "kana_name":
            kana = jaconv.hira2kata(f["customer_kana"])
            query = rng.choice((jaconv.kata2hira(kana), _half_width_kana(kana), kana))
        elif kind == "name_and_ward":
            query = f"{f['base']} {f['city']}"
        elif kind == "partial_address":
            query = rng.choice(
                (
                    f"{f['town']}{f['chome']}-{f['banchi']}",
                    f"{f['town']}{_kanji_number(f['chome'])}丁目{f['banchi']}番",
                    f"{f['city']}{f['town']}{_full_width(str(f['chome']))}丁目{f['banchi']}",
                )
            )
        else:
            digits = "".join(c for c in f["phone"] if c.isdigit())
            query = f"{digits[-4:]} {f['town']}"
        out.append((kind, query, n))
    return out


def _percentiles(values_ms: list[float]) -> dict[str, float]:
    ordered = sorted(values_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def measure(query_set: list[tuple[str, str, int]], http_count: int) -> dict:
    from django.test import Client

    from accounts.models import Role, User
    from support.search import site_search

    for _kind, query, _site in query_set[:50]:  # warm the caches and the connection
        site_search(query)
    per_kind: dict[str, list[float]] = defaultdict(list)
    found: dict[str, list[bool]] = defaultdict(list)
    everything = []
    for kind, query, site_id in query_set:
        started = time.perf_counter()
        result = site_search(query)
        elapsed_ms = (time.perf_counter() - started) * 1000
        per_kind[kind].append(elapsed_ms)
        everything.append(elapsed_ms)
        found[kind].append(site_id in [hit.site_id for hit in result.hits])
    user, _ = User.objects.get_or_create(username="bench-support", defaults={"role": Role.SUPPORT})
    client = Client()
    client.force_login(user)
    for _kind, query, _site in query_set[-10:]:  # first requests load URLconf and templates
        client.get("/api/v1/support/search/", {"q": query}, secure=True)
    http = []
    for _kind, query, _site in query_set[:http_count]:
        started = time.perf_counter()
        response = client.get("/api/v1/support/search/", {"q": query}, secure=True)
        http.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    return {
        "service": _percentiles(everything),
        "by_kind": {
            kind: {
                **_percentiles(times),
                "found_in_top_20": round(sum(found[kind]) / len(found[kind]), 3),
            }
            for kind, times in sorted(per_kind.items())
        },
        "http_api": _percentiles(http),
        "examples": [q for _k, q, _s in query_set[:12]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("run", "load", "measure"))
    parser.add_argument("--sites", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--http-queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db", default=DB_NAME)
    parser.add_argument("--output", type=Path, default=RESULTS / "support_search.json")
    parser.add_argument("--reload", action="store_true", help="Load even if the sites are there.")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    _create_database(args.db)
    _django(args.db)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    report: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores",
        "cpu_affinity": sorted(os.sched_getaffinity(0)),
        "load_average_at_start": os.getloadavg(),
        "sites": args.sites,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM support_sitesearchentry")
        present = cursor.fetchone()[0]
        cursor.execute("SELECT version()")
        report["postgresql"] = cursor.fetchone()[0].split(" on ")[0]
    if args.command in ("run", "load") and (present != args.sites or args.reload):
        print(f"Loading {args.sites:,} sites into {args.db} …", flush=True)
        report["load"] = load(args.sites, args.seed)
        print(json.dumps(report["load"]), flush=True)
    if args.command in ("run", "measure"):
        query_set = queries(args.queries, args.sites, args.seed)
        report["measurement"] = measure(query_set, args.http_queries)
        report["load_average_at_end"] = os.getloadavg()
        print(json.dumps(report, indent=2, ensure_ascii=False))
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
