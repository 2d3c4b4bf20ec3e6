"""How the binary fixtures next to this file were made; run once, the outputs are committed.

    .venv/bin/python tests/imports/files/generate.py

The CSV files written by hand are the readable ones; these are the ones a
text editor cannot write: a Shift_JIS CSV as Japanese Excel saves it, Excel
workbooks with real date, time and number cells, and a binary non-spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent

SJIS_ORDERS = """\
契約ID,回線ID,顧客名,顧客名カナ,電話番号,建物名,住所,郵便番号,都道府県,市区町村,緯度,経度,作業種別,着工可能日,納期,作業時間（分）,優先度,作業指示
C-2026-0101,CIR-0101,㈱大阪通信,オオサカツウシン,06-5555-0101,梅田センタービル,大阪府大阪市北区梅田1丁目1-3,530-0001,大阪府,大阪市北区,,,新規,2026/12/01,2026/12/20,,3,１階受付で入館証を受け取る
C-2026-0102,,有限会社難波食堂,ナンバショクドウ,06-5555-0102,難波パークス,大阪府大阪市浪速区難波中2丁目10-70,556-0011,大阪府,大阪市浪速区,34.6617,135.5017,移転,2026/12/03,2026/12/24,180,4,
"""


def _orders_xlsx() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "受注"
    sheet.append(
        [
            "契約ID",
            "顧客名",
            "電話番号",
            "建物名",
            "住所",
            "郵便番号",
            "作業種別",
            "着工可能日",
            "納期",
            "作業時間（分）",
            "優先度",
            "latitude",
            "longitude",
        ]
    )
    sheet.append(
        [
            "C-2026-0201",
            "株式会社横浜港運",
            "045-555-0201",
            "みなとみらいビル",
            "神奈川県横浜市西区みなとみらい2丁目2-1",
            2200012,  # a postal code typed into a number cell
            "新規",
            dt.datetime(2026, 12, 2),
            dt.datetime(2026, 12, 22),
            120,
            3,
            35.4547,
            139.6317,
        ]
    )
    sheet.append(
        [
            "C-2026-0202",
            "株式会社川崎製作所",
            "044-555-0202",
            "川崎テックセンター",
            "神奈川県川崎市幸区堀川町580",
            "212-0013",
            "保守",
            None,
            dt.datetime(2026, 12, 15),
            None,
            5,
            None,
            None,
        ]
    )
    workbook.save(HERE / "orders.xlsx")


def _crews_xlsx() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "班"
    sheet.append(
        ["会社名", "班名", "人数", "スキル", "拠点緯度", "拠点経度", "始業", "終業", "稼働曜日"]
    )
    sheet.append(
        [
            *("C光ネット株式会社", "C1", 2, "fibre_splicing、aerial", 35.7, 139.6),
            *(dt.time(8, 0), dt.time(16, 30), "月水金"),
        ]
    )
    sheet.append(
        ["C光ネット株式会社", "C2", 3, None, 35.71, 139.61, dt.time(9, 0), dt.time(18, 0), "毎日"]
    )
    workbook.save(HERE / "crews.xlsx")


def main() -> None:
    (HERE / "orders_sjis.csv").write_bytes(SJIS_ORDERS.replace("\n", "\r\n").encode("cp932"))
    _orders_xlsx()
    _crews_xlsx()
    garbage = b"\x89PNG\r\n\x1a\n" + random.Random(6).randbytes(2048)
    (HERE / "garbage.csv").write_bytes(garbage)


if __name__ == "__main__":
    main()
