"""The support desk's cast: Sam answers calls, Alice coordinates, Pat works for a partner.

Three buildings a caller might ask about, each with a customer and a
contract, spelled the way real records are (full-width digits, hyphens,
+81 numbers, hiragana readings):

* 芝浦シーサイドビル of 株式会社山田商事, 東京都港区芝浦三丁目4番1号;
* 丸の内テラス of 有限会社佐藤技研, 東京都千代田区丸の内1丁目2-3;
* 霞が関セントラル of 鈴木ロジスティクス株式会社, 東京都千代田区霞が関２－１－１.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from accounts.models import Role, User
from dispatch.models import Job
from dispatch.states import JobKind, JobStatus
from sites.models import Contract, Region, Site
from tests.factories import (
    make_company,
    make_contract,
    make_customer,
    make_job,
    make_site,
    make_user,
)


@dataclass
class Desk:
    region: Region
    support: User
    coordinator: User
    partner: User
    shibaura: Site
    marunouchi: Site
    kasumigaseki: Site
    yamada: Contract
    sato: Contract
    suzuki: Contract


@pytest.fixture
def desk(db: None) -> Desk:
    region = Region.objects.create(code="tokyo-central", name="Tokyo central")
    shibaura = make_site(
        name="芝浦シーサイドビル",
        name_kana="シバウラシーサイドビル",
        address="東京都港区芝浦三丁目4番1号",
        postal_code="1080023",
        city="港区",
        region=region,
    )
    marunouchi = make_site(
        name="丸の内テラス",
        address="東京都千代田区丸の内1丁目2-3",
        postal_code="1000005",
        city="千代田区",
        region=region,
    )
    kasumigaseki = make_site(
        name="霞が関セントラル",
        address="東京都千代田区霞が関２－１－１",
        postal_code="1000013",
        city="千代田区",
        region=region,
    )
    yamada = make_contract(
        customer=make_customer(
            name="株式会社山田商事",
            name_kana="やまだしょうじ",
            phone="03-1234-5678",
            phone_alt="090-1111-2222",
            contact_person="山田 太郎",
        ),
        contract_id="KN-2024-000123",
        circuit_id="FTTH-13-0004567",
    )
    yamada.sites.add(shibaura)
    sato = make_contract(
        customer=make_customer(
            name="有限会社佐藤技研", name_kana="サトウギケン", phone="+81-3-5555-0101"
        ),
        contract_id="KN-2024-000456",
        circuit_id="FTTH-13-0009876",
    )
    sato.sites.add(marunouchi)
    suzuki = make_contract(
        customer=make_customer(
            name="鈴木ロジスティクス株式会社",
            name_kana="ｽｽﾞｷﾛｼﾞｽﾃｨｸｽ",
            phone="０４５（６７８）９０１２",
        ),
        contract_id="KN-2025-000789",
        circuit_id=None,
    )
    suzuki.sites.add(kasumigaseki)
    company = make_company(name="港通信工業株式会社")
    return Desk(
        region=region,
        support=make_user(Role.SUPPORT, username="sam"),
        coordinator=make_user(Role.COORDINATOR, username="alice"),
        partner=make_user(Role.PARTNER, username="pat", partner_company=company),
        shibaura=shibaura,
        marunouchi=marunouchi,
        kasumigaseki=kasumigaseki,
        yamada=yamada,
        sato=sato,
        suzuki=suzuki,
    )


def a_job(
    site: Site,
    *,
    contract: Contract | None = None,
    status: str = JobStatus.READY,
    kind: str = JobKind.MAINTENANCE,
    **fields: Any,
) -> Job:
    """A job already raised at ``site``: an earlier visit, a line being built; ready by default."""
    return make_job(
        site=site, contract=contract, status=status, kind=kind, surveyed=False, **fields
    )
