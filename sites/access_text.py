"""Read a building's access hours from the way Japanese surveys spell them.

Surveyors and property managers type things like "平日 9:00–17:00（土日祝休）",
"月〜金 ９：００〜１７：００、鍵は管理人室" or "24時間". :func:`parse_access_text`
turns that into :class:`sites.access.AccessHours` plus the text it did not use.

The rule is *never guess*. Every fragment ends up in exactly one place:

* ``hours``: windows and days read with certainty;
* ``notes``: fragments with no day or time vocabulary at all ("鍵は管理人室で
  受け取り", "エレベーター要予約"), kept verbatim from the input;
* ``unparsed``: fragments that talk about days or times but that this parser
  cannot read unambiguously. The caller shows them to the user instead of
  silently dropping or inventing hours. When ``unparsed`` is not empty,
  ``hours`` is incomplete and must be reviewed before it is trusted.

Decisions on the ambiguous spellings (each one has a test):

* A time range with no day word ("9:00〜17:00") applies to every day key 0-7,
  holidays included: the old survey form had one daily window for every day,
  and that is what such entries meant.
* "平日", "月〜金" and any other list of weekdays exclude holidays; the holiday
  key is only included by 祝/祝日/祭日, or by 毎日, 年中無休, 無休, 365日, 24時間,
  終日, or a time range with no day word at all.
* Closed days ("土日祝休", "水曜定休", "日曜・祝日休み", "土日祝不可",
  "(土日祝除く)") are removed from every window in the text. On their own they
  mean "the other days, any time": "土日祝不可" is Mon–Fri 00:00–24:00.
* Days with no time ("平日のみ", "年中無休") likewise mean those days, any time,
  unless a time range without days appears elsewhere, which they then qualify.
* "24時間" / "終日" is 00:00–24:00; with no day word it means every day
  including holidays.
* Open-ended or vague times are unparsed, never completed: "17時以降不可",
  "9時から", "17時まで", "午前中のみ", "土曜は午前のみ", "夜間", "早朝", "日中",
  "昼休み", a lunch break given as "12:00〜13:00不可" (a time that is *not*
  open), ranges across midnight, "午前12時"/"午後12時" (both readings exist),
  "第2土曜", "年末年始", "休日" (weekends? holidays? both?).
* Hedges make the whole clause unparsed when the clause mentions days or
  times, or has nothing else in it: "応相談", "要確認", "時間要相談",
  "9:00〜17:00（要確認）". A hedge in a clause with no day or time words
  ("鍵の受け渡しは要相談") is a note.
* "土日祝も可 9-17" is unparsed: "も" (also) says other days are open too,
  without saying when. "水曜日は終日不可" is a closed day.
* A fragment that mixes hours with other words ("騒音作業は10時〜16時") is
  unparsed: the hours may be about something else than access. Labels such as
  "管理人在室時間", "入館可能時間", "作業時間" are understood and dropped.
* A time range with no day word after a range that had days, in the same
  clause and separated only by "、" or ",", continues that day list
  ("平日 9:00-12:00、13:00-17:00"). After a slash, "。" or a newline it would be
  ambiguous next to explicit days and is unparsed.
* Clauses are separated by newline, "。", slashes and semicolons (either
  width); fragments inside a clause by "、", "," and brackets. Day lists use
  "・" or nothing ("月水金"). Neighbouring note fragments are returned as one
  verbatim slice of the input; separate ones are joined with a newline.

Plain Python (no Django) so it runs in imports, scripts and tests alike.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from sites.access import (
    ALL_DAY_KEYS,
    END_OF_DAY,
    HOLIDAY,
    START_OF_DAY,
    AccessHours,
    AccessRange,
)

__all__ = ["ParsedAccess", "parse_access_text"]

Interval = tuple[dt.time, dt.time]
Span = tuple[int, int]
FULL_DAY: Interval = (START_OF_DAY, END_OF_DAY)
WEEKDAYS_MON_FRI = frozenset(range(5))


@dataclass(frozen=True, slots=True)
class ParsedAccess:
    """What :func:`parse_access_text` understood, and what it left for a human."""

    hours: AccessHours
    notes: str
    unparsed: tuple[str, ...]


# -- splitting ---------------------------------------------------------------

_STRONG_SEPARATORS = "\n\r。\uff0f/\uff1b;"  # full-width solidus and semicolon too
_WEAK_SEPARATORS = "、,，"
_BRACKETS = "()（）【】[]\uff3b\uff3d"  # full-width square brackets too
_SPLIT_RE = re.compile("[" + re.escape(_STRONG_SEPARATORS + _WEAK_SEPARATORS + _BRACKETS) + "]")


def _normalise(text: str) -> str:
    """Full-width digits, colons, tildes and letters to ASCII, lower case."""
    return unicodedata.normalize("NFKC", text).casefold()


# -- tokens ------------------------------------------------------------------

# ASCII hyphen and tilde, wave dash, hyphen, figure/en/em dash, bar, minus, long vowel mark.
_DASH = "(?:~|〜|-|\u2010|\u2011|\u2012|–|\u2014|\u2015|−|ー|から|to)"


def _point(n: int) -> str:
    return (
        rf"(?:(?P<ap{n}>午前|午後|am|pm)\s*)?(?P<h{n}>\d{{1,2}})"
        rf"(?P<mark{n}>\s*:\s*(?P<m{n}>\d{{2}})|\s*時(?:\s*(?P<mm{n}>\d{{1,2}})\s*分|(?P<half{n}>半))?)?"
    )


_RANGE_RE = re.compile(
    rf"(?<![\d.])(?<!\d:){_point(1)}\s*{_DASH}\s*{_point(2)}(?:\s*(?:まで|迄))?(?![\d:])"
)
_POINT_RE = re.compile(rf"(?<![\d.])(?<!\d:){_point(1)}(?![\d:])")
_FULL_DAY_RE = re.compile(r"24\s*時間|24\s*hours?|24\s*h|終日")
_SPECIAL_DAYS: dict[str, frozenset[int]] = {
    "平日": WEEKDAYS_MON_FRI,
    "毎日": ALL_DAY_KEYS,
    "年中無休": ALL_DAY_KEYS,
    "無休": ALL_DAY_KEYS,
    "365日": ALL_DAY_KEYS,
    "全日": ALL_DAY_KEYS,
    "週末": frozenset({5, 6}),
}
_SPECIAL_DAYS_RE = re.compile("|".join(sorted(_SPECIAL_DAYS, key=len, reverse=True)))
_DAY_CHARS = "月火水木金土日"
_ONE_DAY = r"[月火水木金土日](?:曜日|曜)?"
_HOLIDAY_WORD = r"(?:祝祭日|祝日|祭日|祝)"
_DAY_ITEM = rf"(?:{_ONE_DAY}\s*{_DASH}\s*{_ONE_DAY}(?:まで)?|{_ONE_DAY}|{_HOLIDAY_WORD})"
_DAY_RUN_RE = re.compile(rf"{_DAY_ITEM}(?:\s*[・,]?\s*{_DAY_ITEM})*")
_DAY_ITEM_RE = re.compile(
    rf"(?P<first>[月火水木金土日])(?:曜日|曜)?\s*{_DASH}\s*(?P<last>[月火水木金土日])(?:曜日|曜)?"
    rf"|(?P<one>[月火水木金土日])(?:曜日|曜)?|(?P<holiday>{_HOLIDAY_WORD})"
)
# Words that are about days or times but cannot be read without guessing.
_VAGUE_RE = re.compile(
    r"午前中|午前|午後|夜間|深夜|夜|早朝|朝|夕方|夕|昼間|昼|日中|休日|休憩|年末年始|年末|年始"
    r"|お盆|盆|夏季|冬季|夏期|冬期|gw|ゴールデンウィーク|連休|隔週|第\s*\d|月末|月初|以外"
    r"|以降|以後|以前|から|まで|迄|頃|ごろ|翌|当番"
)
# Words that turn the days next to them into closed days.
_CLOSED_RE = re.compile(
    r"定休日|定休|休館日|休館|休業日|休業|休み|休|不可能|不可|除く|除き|ng|\u00d7|\u2715|\u2716|不在"
    r"|閉館|閉鎖|禁止|できません|できない|お断り"
)
# Words that close a list of open days: "平日のみ 土日休み" is two statements.
_OPEN_RE = re.compile("のみ|限定|だけ|可能|可|ok|\u25cb|\u3007")
# Labels and particles that carry no information once days and times are read.
_FILLER_RE = re.compile(
    r"管理人在室時間|管理人勤務時間|管理人在室|管理人常駐|管理人勤務|管理事務所|管理人|管理室"
    r"|在室|常駐|勤務|入館可能時間|入館可能|入館時間|入館|入室|作業可能時間|作業可能|作業時間"
    r"|作業|工事可能時間|工事可能|工事時間|工事|立入可能|立ち入り可能|立入|立ち入り|訪問可能"
    r"|訪問|対応可能|対応|受付時間|受付|営業時間|営業|開館時間|開館|時間帯|時間"
    r"|原則|基本的に|基本|毎週|曜日|含む|含め|ともに|とも|共に"
    # Not "も": "土日も可" says other days are open too, without saying when.
    r"|[はのでにとがを]"
)
# Words that make a clause uncertain: the hours in it are not to be trusted.
_HEDGE_RE = re.compile(
    r"応相談|要相談|相談|要確認|確認中|未確認|未定|不明|調整|程度|目安|前後|場合によ|変更"
    r"|臨時|不定期|予定|たぶん|多分|おそらく|かも|\?"
)
# Day or time vocabulary that the token patterns do not cover.
_TIME_VOCABULARY_RE = re.compile(r"時間|曜|営業日|定休|休館|休業")
_IGNORABLE_RE = re.compile(r"[\s:・※*!]+")


def _is_word_char(char: str) -> bool:
    """Kanji, katakana or a letter: a day character touching one is part of another word."""
    return (
        "\u4e00" <= char <= "\u9fff"
        or "\u3400" <= char <= "\u4dbf"
        or "\u30a0" <= char <= "\u30ff"
        or (char.isascii() and char.isalpha())
    )


@dataclass(slots=True)
class _Token:
    kind: str  # "days", "times", "closed", "open", "filler", "vague", "bad"
    days: frozenset[int] = frozenset()
    times: tuple[Interval, ...] = ()


def _to_time(match: re.Match[str], n: int, inherited_ap: str | None) -> tuple[int, int] | None:
    """Hour and minute of one time point, or None when it cannot be read for sure."""
    hour = int(match[f"h{n}"])
    if match[f"m{n}"] is not None:
        minute = int(match[f"m{n}"])
    elif match[f"mm{n}"] is not None:
        minute = int(match[f"mm{n}"])
    else:
        minute = 30 if match[f"half{n}"] else 0
    ap = match[f"ap{n}"] or inherited_ap
    if ap is not None:
        if hour >= 12:  # 午前12時 / 午後12時: noon and midnight are both in use
            return None
        if ap in {"午後", "pm"}:
            hour += 12
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return hour, minute


def _range_token(match: re.Match[str], text: str) -> _Token | None:
    """A time range, a "bad" token for an unreadable one, or None when it is no time at all."""
    marked = any(match[f"mark{n}"] or match[f"ap{n}"] for n in (1, 2))
    if not marked:
        # "10-16" is hours only when nothing counts it: not "2-3名", "3-5階".
        following = text[match.end() : match.end() + 1]
        if following and _is_word_char(following):
            return None
    opens = _to_time(match, 1, None)
    closes = _to_time(match, 2, match["ap1"] if not match["ap2"] else None)
    if opens is None or closes is None or opens[0] == 24 or opens >= closes:
        return _Token("bad")
    closing = END_OF_DAY if closes == (24, 0) else dt.time(*closes)
    return _Token("times", times=((dt.time(*opens), closing),))


def _day_run_keys(run: str) -> frozenset[int]:
    keys: set[int] = set()
    for item in _DAY_ITEM_RE.finditer(run):
        if item["holiday"]:
            keys.add(HOLIDAY)
        elif item["one"]:
            keys.add(_DAY_CHARS.index(item["one"]))
        else:
            day, last = _DAY_CHARS.index(item["first"]), _DAY_CHARS.index(item["last"])
            while True:  # ranges may wrap around the week: 金〜月
                keys.add(day)
                if day == last:
                    break
                day = (day + 1) % 7
    return frozenset(keys)


def _other_token_at(text: str, position: int) -> bool:
    return any(
        pattern.match(text, position)
        for pattern in (
            _FULL_DAY_RE,
            _SPECIAL_DAYS_RE,
            _VAGUE_RE,
            _CLOSED_RE,
            _OPEN_RE,
            _FILLER_RE,
            _DAY_RUN_RE,
        )
    )


def _scan(text: str) -> tuple[list[_Token], str]:
    """Tokens of one normalised fragment, and the characters no pattern explained."""
    tokens: list[_Token] = []
    leftover: list[str] = []
    position, last_end = 0, 0
    while position < len(text):
        token, end = _token_at(text, position, last_end)
        if token is None:
            leftover.append(text[position])
            position += 1
            continue
        tokens.append(token)
        position = last_end = end
    return tokens, "".join(leftover)


def _token_at(text: str, position: int, last_end: int) -> tuple[_Token | None, int]:
    matchers: list[tuple[re.Pattern[str], Callable[[re.Match[str]], _Token | None]]] = [
        (_FULL_DAY_RE, lambda m: _Token("times", times=(FULL_DAY,))),
        (_SPECIAL_DAYS_RE, lambda m: _Token("days", days=_SPECIAL_DAYS[m[0]])),
        (_RANGE_RE, lambda m: _range_token(m, text)),
        (_POINT_RE, lambda m: _Token("vague") if m["mark1"] or m["ap1"] else None),
        (_VAGUE_RE, lambda m: _Token("vague")),
        (_CLOSED_RE, lambda m: _Token("closed")),
        (_DAY_RUN_RE, lambda m: _day_token(m, text, position, last_end)),
        (_OPEN_RE, lambda m: _Token("open")),
        (_FILLER_RE, lambda m: _Token("filler")),
    ]
    for pattern, build in matchers:
        match = pattern.match(text, position)
        if match is None:
            continue
        token = build(match)
        if token is not None:
            return token, match.end()
    return None, position


def _day_token(match: re.Match[str], text: str, position: int, last_end: int) -> _Token | None:
    """Day characters count only as a word of their own: not 月額, 土足, 3日, 本日."""
    if position > 0 and position != last_end:
        before = text[position - 1]
        if before.isdigit() or _is_word_char(before):
            return None
    end = match.end()
    if end < len(text) and _is_word_char(text[end]) and not _other_token_at(text, end):
        return None
    return _Token("days", days=_day_run_keys(match[0]))


# -- one fragment --------------------------------------------------------------


@dataclass(slots=True)
class _Fragment:
    """What one fragment says. ``kind`` is "note", "unparsed" or "hours"."""

    kind: str
    span: Span
    explicit: list[tuple[frozenset[int], tuple[Interval, ...]]] = field(default_factory=list)
    times: tuple[Interval, ...] = ()  # a window with no day word
    days: frozenset[int] = frozenset()  # days with no window
    closed: frozenset[int] = frozenset()

    @property
    def only_days(self) -> bool:
        return bool(self.days) and not (self.explicit or self.times or self.closed)


@dataclass(slots=True)
class _Group:
    days: set[int] = field(default_factory=set)
    times: list[Interval] = field(default_factory=list)
    closed: bool = False
    open: bool = False


def _has_hours(tokens: list[_Token]) -> bool:
    return any(token.kind in {"days", "times", "vague", "bad"} for token in tokens)


def _read_fragment(text: str, span: Span) -> _Fragment:
    tokens, leftover = _scan(text)
    if not _has_hours(tokens):
        return _Fragment("unparsed" if _TIME_VOCABULARY_RE.search(text) else "note", span)
    if any(token.kind in {"vague", "bad"} for token in tokens) or _IGNORABLE_RE.sub("", leftover):
        return _Fragment("unparsed", span)

    groups: list[_Group] = []
    current = _Group()
    for token in tokens:
        if token.kind == "days":
            if current.times or current.open or (current.closed and current.days):
                groups.append(current)
                current = _Group()
            current.days |= token.days
        elif token.kind == "times":
            if current.closed and current.days:
                groups.append(current)
                current = _Group()
            current.times.extend(token.times)
        elif token.kind == "closed":
            if current.open:
                groups.append(current)
                current = _Group()
            current.closed = True
        elif token.kind == "open":
            current.open = True
    groups.append(current)

    fragment = _Fragment("hours", span)
    closed: set[int] = set()
    has_times = any(group.times for group in groups)
    index = 0
    while index < len(groups):
        group = groups[index]
        index += 1
        if group.closed:
            if group.times == [FULL_DAY] and group.days:  # "水曜日は終日不可"
                group.times = []
            if group.times or not group.days:  # "12:00〜13:00不可", "9-17 不可"
                return _Fragment("unparsed", span)
            closed |= group.days
        elif group.days and group.times:
            fragment.explicit.append((frozenset(group.days), tuple(group.times)))
        elif group.times:
            following = groups[index] if index < len(groups) else None
            if following and following.days and not following.times and not following.closed:
                # "9:00〜17:00 平日のみ": the days come after the window.
                fragment.explicit.append((frozenset(following.days), tuple(group.times)))
                index += 1
            elif index == 1 and not fragment.times:
                fragment.times = tuple(group.times)
            else:
                return _Fragment("unparsed", span)
        elif group.days:
            if has_times:  # "平日 9-17 土曜": what about Saturday?
                return _Fragment("unparsed", span)
            fragment.days = frozenset(group.days)
    fragment.closed = frozenset(closed)
    return fragment


# -- the whole text --------------------------------------------------------------


def _pieces(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[Span]:
    spans: list[Span] = []
    position = start
    for match in pattern.finditer(text, start, end):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, end))
    trimmed = []
    for left, right in spans:
        piece = text[left:right]
        if piece.strip():
            left += len(piece) - len(piece.lstrip())
            right -= len(piece) - len(piece.rstrip())
            trimmed.append((left, right))
    return trimmed


_STRONG_RE = re.compile("[" + re.escape(_STRONG_SEPARATORS) + "]")
_FRAGMENT_RE = re.compile("[" + re.escape(_WEAK_SEPARATORS + _BRACKETS) + "]")


def _clause_is_hedged(clause: str) -> bool:
    """A hedged clause about hours, or a bare hedge like "応相談", cannot be trusted."""
    if not _HEDGE_RE.search(clause):
        return False
    tokens, leftover = _scan(_HEDGE_RE.sub(" ", clause))
    if _has_hours(tokens) or _TIME_VOCABULARY_RE.search(clause):
        return True
    return not _IGNORABLE_RE.sub("", _SPLIT_RE.sub("", leftover))


def _join(text: str, spans: list[Span], *, across_clauses: bool) -> list[str]:
    """Original text of the spans, joining neighbours separated only by punctuation."""
    joined: list[Span] = []
    gap_ok = re.compile(
        "[\\s"
        + re.escape(_WEAK_SEPARATORS + _BRACKETS)
        + (re.escape(_STRONG_SEPARATORS) if across_clauses else "")
        + "]*"
    )
    for span in sorted(spans):
        if joined and gap_ok.fullmatch(text, joined[-1][1], span[0]):
            joined[-1] = (joined[-1][0], span[1])
        else:
            joined.append(span)
    return [text[left:right] for left, right in joined]


def parse_access_text(text: str) -> ParsedAccess:
    """Read access hours from free text; see the module docstring for the rules."""
    fragments: list[_Fragment] = []
    for clause_start, clause_end in _pieces(text, 0, len(text), _STRONG_RE):
        if _clause_is_hedged(_normalise(text[clause_start:clause_end])):
            fragments.append(_Fragment("unparsed", (clause_start, clause_end)))
            continue
        fragments.extend(_read_clause(text, clause_start, clause_end))
    return _combine(text, fragments)


def _read_clause(text: str, start: int, end: int) -> list[_Fragment]:
    """Fragments of one clause, with day lists and "、"-continued windows resolved."""
    result: list[_Fragment] = []
    pending: _Fragment | None = None  # "月、水、金 9-17": days waiting for their window
    last_days: frozenset[int] | None = None
    for left, right in _pieces(text, start, end, _FRAGMENT_RE):
        fragment = _read_fragment(_normalise(text[left:right]), (left, right))
        if fragment.kind == "hours" and fragment.only_days:
            if pending is None:
                pending = fragment
            else:
                pending.days |= fragment.days
                pending.span = (pending.span[0], fragment.span[1])
            continue
        if fragment.kind == "hours" and pending is not None:
            if fragment.explicit:
                days, times = fragment.explicit[0]
                fragment.explicit[0] = (days | pending.days, times)
                pending = None
            elif fragment.times:
                fragment.explicit.append((pending.days, fragment.times))
                fragment.times = ()
                pending = None
        elif fragment.kind == "hours" and fragment.times and last_days is not None:
            # "平日 9:00-12:00、13:00-17:00": the second window keeps the days.
            fragment.explicit.append((last_days, fragment.times))
            fragment.times = ()
        if pending is not None:
            result.append(pending)
            pending = None
        last_days = fragment.explicit[-1][0] if fragment.explicit else None
        result.append(fragment)
    if pending is not None:
        result.append(pending)
    return result


def _combine(text: str, fragments: list[_Fragment]) -> ParsedAccess:
    """Apply the cross-clause rules: default days, closed days, day-only restrictions."""
    hours = [f for f in fragments if f.kind == "hours"]
    unparsed = [f.span for f in fragments if f.kind == "unparsed"]
    notes = [f.span for f in fragments if f.kind == "note"]
    explicit = [item for f in hours for item in f.explicit]
    timed = [f for f in hours if f.times]
    day_only = [f for f in hours if f.days]
    closed: frozenset[int] = frozenset().union(*(f.closed for f in hours))

    if timed:
        if explicit:  # "平日 9-17 / 13-17": which days does the second window have?
            unparsed.extend(f.span for f in timed)
        else:
            base = frozenset().union(*(f.days for f in day_only)) if day_only else ALL_DAY_KEYS
            times = tuple(window for f in timed for window in f.times)
            explicit.append((base, times))
            day_only = []
    if day_only:
        covered = frozenset().union(*(days for days, _ in explicit))
        if explicit:
            # "年中無休" next to windows for every day only repeats them.
            unparsed.extend(f.span for f in day_only if not f.days <= covered)
        else:
            explicit.append((frozenset().union(*(f.days for f in day_only)), (FULL_DAY,)))
    if not explicit and closed:
        explicit.append((ALL_DAY_KEYS, (FULL_DAY,)))  # "土日祝不可": the other days, any time

    ranges = [
        AccessRange(days - closed, opens, closes)
        for days, windows in explicit
        if days - closed
        for opens, closes in windows
    ]
    if explicit and not ranges:
        # Everything read was closed again ("毎日休み"): "never open" is no schedule.
        unparsed.extend(f.span for f in hours)
    return ParsedAccess(
        hours=AccessHours(tuple(ranges)),
        notes="\n".join(_join(text, notes, across_clauses=True)),
        unparsed=tuple(_join(text, unparsed, across_clauses=False)),
    )
