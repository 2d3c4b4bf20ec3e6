"""Who and what the demo is made of: partner companies, skills, names, services, stories.

Reference tables only, no code: :mod:`demo.build` draws from them with its
seeded ``random.Random``, so reordering or editing an entry changes the demo
data (and the seed's meaning). All text meant for people in the field is
Japanese, as it would be in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.models import IncompleteReason

SKILLS: tuple[tuple[str, str, str], ...] = (
    # code, Japanese name, English name (the same as dispatch migration 0012 fills in)
    ("fibre_splicing", "光ファイバー融着接続", "Fibre splicing"),
    ("aerial_cabling", "架空配線・引込（電柱）", "Aerial cabling and drops (poles)"),
    ("high_reach", "高所作業車の運転・作業", "Aerial work platform operation"),
    ("riser_cabling", "縦系配線（EPS・ライザー）", "Riser cabling (EPS, risers)"),
    ("indoor_wiring", "屋内配線・モール工事", "Indoor wiring and raceways"),
    ("core_drilling", "コア抜き・貫通工事", "Core drilling and penetrations"),
    ("mc_install", "メディアコンバーター設置", "Media converter installation"),
    ("router_config", "ルーター・ONU 設定", "Router and ONU setup"),
    ("fault_diagnosis", "障害切り分け・光レベル測定", "Fault isolation, optical level testing"),
    ("night_work", "夜間・早朝作業", "Night and early-morning work"),
)


@dataclass(frozen=True)
class CompanySpec:
    name: str
    kana: str
    is_group_company: bool
    regions: tuple[str, ...]
    crews: int
    phone: str
    email: str
    depot_cities: tuple[str, ...]
    contact: tuple[str, str]


COMPANIES: tuple[CompanySpec, ...] = (
    CompanySpec(
        "光都エンジニアリング株式会社",
        "コウトエンジニアリング",
        True,
        ("tokyo-central", "tokyo-east", "tokyo-west", "kanagawa-saitama"),
        8,
        "03-5765-2210",
        "dispatch@koto-eng.example.co.jp",
        ("港区", "江東区", "品川区", "さいたま市大宮区"),
        ("木下", "亜希"),
    ),
    CompanySpec(
        "株式会社東邦通信工業",
        "トウホウツウシンコウギョウ",
        False,
        ("tokyo-central", "tokyo-east"),
        5,
        "03-3633-4812",
        "koji@toho-tsushin.example.co.jp",
        ("墨田区", "台東区"),
        ("石川", "浩二"),
    ),
    CompanySpec(
        "城南電設株式会社",
        "ジョウナンデンセツ",
        False,
        ("tokyo-central", "tokyo-west"),
        5,
        "03-3762-0931",
        "info@jonan-densetsu.example.co.jp",
        ("大田区", "品川区"),
        ("森", "達也"),
    ),
    CompanySpec(
        "株式会社京浜テレコム工業",
        "ケイヒンテレコムコウギョウ",
        False,
        ("kanagawa-saitama", "tokyo-central"),
        5,
        "044-211-3378",
        "ops@keihin-telecom.example.co.jp",
        ("川崎市川崎区", "横浜市港北区"),
        ("岡田", "誠"),
    ),
    CompanySpec(
        "有限会社隅田川通信",
        "スミダガワツウシン",
        False,
        ("tokyo-east",),
        4,
        "03-5608-7724",
        "sumidagawa@sumidagawa-tsushin.example.co.jp",
        ("葛飾区", "江戸川区"),
        ("後藤", "和也"),
    ),
    CompanySpec(
        "株式会社武蔵野通信建設",
        "ムサシノツウシンケンセツ",
        False,
        ("tokyo-west",),
        5,
        "0422-47-1185",
        "koumu@musashino-tk.example.co.jp",
        ("武蔵野市", "杉並区"),
        ("長谷川", "真一"),
    ),
    CompanySpec(
        "大宮光ケーブル工業株式会社",
        "オオミヤヒカリケーブルコウギョウ",
        False,
        ("kanagawa-saitama", "tokyo-east"),
        4,
        "048-643-5520",
        "info@omiya-hikari.example.co.jp",
        ("さいたま市大宮区", "川口市"),
        ("藤田", "康介"),
    ),
    CompanySpec(
        "株式会社湾岸ファイバーテック",
        "ワンガンファイバーテック",
        False,
        ("tokyo-central", "tokyo-east", "kanagawa-saitama"),
        4,
        "03-6457-9013",
        "work@wangan-ft.example.co.jp",
        ("江東区", "横浜市西区"),
        ("小川", "千尋"),
    ),
)

SURNAMES: tuple[tuple[str, str], ...] = (
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石井", "イシイ"),
    ("前田", "マエダ"),
    ("小野", "オノ"),
    ("村上", "ムラカミ"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
)
GIVEN_NAMES: tuple[str, ...] = (
    "健太",
    "翔",
    "大輔",
    "拓也",
    "直樹",
    "誠",
    "美咲",
    "陽子",
    "恵",
    "由美",
    "亜希",
    "智子",
    "浩二",
    "和也",
    "真一",
    "裕子",
    "彩",
    "達也",
    "康介",
    "千尋",
    "悠斗",
    "麻衣",
    "隆",
    "紀子",
)

#: (name, kana, romaji) of the distinctive part of a customer's name.
CUSTOMER_BASES: tuple[tuple[str, str, str], ...] = (
    ("山田", "ヤマダ", "yamada"),
    ("青葉", "アオバ", "aoba"),
    ("東都", "トウト", "toto"),
    ("桜井", "サクライ", "sakurai"),
    ("北斗", "ホクト", "hokuto"),
    ("大和", "ヤマト", "yamato"),
    ("隅田", "スミダ", "sumida"),
    ("光陽", "コウヨウ", "koyo"),
    ("新星", "シンセイ", "shinsei"),
    ("日進", "ニッシン", "nisshin"),
    ("双葉", "フタバ", "futaba"),
    ("若葉", "ワカバ", "wakaba"),
    ("中村", "ナカムラ", "nakamura"),
    ("松本", "マツモト", "matsumoto"),
    ("高島", "タカシマ", "takashima"),
    ("三葉", "ミツバ", "mitsuba"),
    ("協栄", "キョウエイ", "kyoei"),
    ("朝日", "アサヒ", "asahi"),
    ("白鷺", "シラサギ", "shirasagi"),
    ("港", "ミナト", "minato"),
    ("武蔵", "ムサシ", "musashi"),
    ("相模", "サガミ", "sagami"),
    ("千歳", "チトセ", "chitose"),
    ("富岳", "フガク", "fugaku"),
    ("東雲", "シノノメ", "shinonome"),
    ("柏木", "カシワギ", "kashiwagi"),
    ("葵", "アオイ", "aoi"),
    ("銀河", "ギンガ", "ginga"),
    ("藤原", "フジワラ", "fujiwara"),
    ("水野", "ミズノ", "mizuno"),
    ("アクシス", "アクシス", "axis"),
    ("ブルーリーフ", "ブルーリーフ", "blueleaf"),
    ("ネクストリンク", "ネクストリンク", "nextlink"),
    ("クローバー", "クローバー", "clover"),
    ("ソレイユ", "ソレイユ", "soleil"),
    ("ハーモニー", "ハーモニー", "harmony"),
    ("エムアンドケイ", "エムアンドケイ", "mk"),
    ("サンライズ", "サンライズ", "sunrise"),
    ("丸栄", "マルエイ", "maruei"),
    ("泉", "イズミ", "izumi"),
    ("宝永", "ホウエイ", "hoei"),
    ("明和", "メイワ", "meiwa"),
    ("秀英", "シュウエイ", "shuei"),
    ("桐生", "キリュウ", "kiryu"),
)

#: (name, kana, romaji) of what a general business does.
BUSINESSES: tuple[tuple[str, str, str], ...] = (
    ("商事", "ショウジ", "shoji"),
    ("物産", "ブッサン", "bussan"),
    ("建設", "ケンセツ", "kensetsu"),
    ("不動産", "フドウサン", "fudosan"),
    ("設計", "セッケイ", "sekkei"),
    ("印刷", "インサツ", "insatsu"),
    ("食品", "ショクヒン", "foods"),
    ("システムズ", "システムズ", "systems"),
    ("ソリューションズ", "ソリューションズ", "solutions"),
    ("デザイン", "デザイン", "design"),
    ("企画", "キカク", "kikaku"),
    ("精機", "セイキ", "seiki"),
    ("工業", "コウギョウ", "kogyo"),
    ("出版", "シュッパン", "shuppan"),
    ("物流", "ブツリュウ", "logi"),
    ("技研", "ギケン", "giken"),
    ("興産", "コウサン", "kosan"),
    ("トレーディング", "トレーディング", "trading"),
)

BUILDING_BRANDS: tuple[tuple[str, str], ...] = (
    ("丸和", "マルワ"),
    ("日栄", "ニチエイ"),
    ("東洋", "トウヨウ"),
    ("共栄", "キョウエイ"),
    ("大和", "ヤマト"),
    ("平和", "ヘイワ"),
    ("昭和", "ショウワ"),
    ("三信", "サンシン"),
    ("千代田", "チヨダ"),
    ("朝日", "アサヒ"),
    ("富士", "フジ"),
    ("光陽", "コウヨウ"),
    ("明治", "メイジ"),
    ("新光", "シンコウ"),
    ("大成", "タイセイ"),
    ("協和", "キョウワ"),
    ("興和", "コウワ"),
    ("太陽", "タイヨウ"),
    ("松岡", "マツオカ"),
    ("三和", "サンワ"),
)
BUILDING_FLAIRS: tuple[tuple[str, str], ...] = (
    ("フロント", "フロント"),
    ("アーバン", "アーバン"),
    ("グランド", "グランド"),
    ("センター", "センター"),
    ("パーク", "パーク"),
    ("イースト", "イースト"),
    ("ウエスト", "ウエスト"),
    ("ステーション", "ステーション"),
    ("ベイ", "ベイ"),
)
ORDINALS: tuple[tuple[str, str], ...] = (
    ("第2", "ダイニ"),
    ("第3", "ダイサン"),
    ("第5", "ダイゴ"),
    ("第8", "ダイハチ"),
    ("新", "シン"),
)

SERVICES: tuple[str, ...] = (
    "法人光 1G ベストエフォート",
    "法人光 1G ベストエフォート",
    "法人光 2G ベストエフォート",
    "法人光 10G ベストエフォート",
    "専用線 100M 帯域確保",
    "専用線 1G 帯域確保",
    "IP-VPN 1G",
)

MAINTENANCE_SYMPTOMS: tuple[str, ...] = (
    "インターネットに全く繋がらない",
    "夕方になると速度が著しく低下する",
    "MC の ALM ランプが赤点灯している",
    "1日に数回、数分間通信が切れる",
    "停電復旧後から繋がらない",
    "内装工事の後から通信が不安定",
)

INCOMPLETE_STORIES: tuple[tuple[str, str], ...] = (
    (
        IncompleteReason.BUILDING_ISSUE,
        "EPS 内の既設配管が図面と異なり途中で閉塞。ルート再調査が必要。",
    ),
    (
        IncompleteReason.NO_ACCESS,
        "防災センターに作業届が届いておらず入館不可。管理会社へ再申請を依頼。",
    ),
    (
        IncompleteReason.CUSTOMER_ENVIRONMENT,
        "お客様ルーターの設定情報が未準備のため接続確認まで実施できず。MC 設置・光開通は完了。",
    ),
    (
        IncompleteReason.TIME_OVERRUN,
        "天井裏の既設ケーブルが多く配線に想定以上の時間。残り（5F 事務所内配線）は別日。",
    ),
    (
        IncompleteReason.CUSTOMER_ABSENT,
        "約束の時間にお客様担当者不在、電話も繋がらず。30分待機後に撤収。",
    ),
)

UNAVAILABILITY_REASONS: tuple[str, ...] = (
    "健康診断",
    "車両点検（車検）",
    "社内安全研修",
    "有給休暇",
    "他社案件の応援",
)


#: How buildings' access hours are written in survey sheets (the planner reads them
#: through sites.access_text); weights roughly as in the source accounts.
ACCESS_TEXTS: tuple[str, ...] = (
    "平日9:00〜18:00",
    "平日 10:00〜17:00（土日祝休館）",
    "9:00〜17:00",
    "平日13:00〜17:00",
    "月〜土 9:00〜17:00、日祝不可",
    "管理人在室時間 9:00〜17:00（水曜定休）",
    "",
)
ACCESS_TEXT_WEIGHTS: tuple[int, ...] = (25, 15, 10, 5, 8, 7, 30)
