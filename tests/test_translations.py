"""The Japanese catalogue is complete and the committed ``.mo`` is compiled from it.

``makemessages`` runs as documented (``-l ja --no-obsolete --no-location --no-wrap``,
ignoring the virtualenvs, tests and benchmarks) in a throwaway copy of the project's
translatable files, so the committed ``locale/`` is never touched and a string added
anywhere without its Japanese fails here, listed by msgid. Fuzzy entries (msgmerge's
guesses, which Django never shows) fail too, and so does a committed msgid that
makemessages does not extract (its translation would be dropped at the next run).

Both tests need GNU gettext (``xgettext``, ``msgmerge``, ``msgfmt``), which CI
installs (``.ci/run``); they skip only when it is missing.
"""

from __future__ import annotations

import ast
import gettext
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "ja"
CATALOGUE = ROOT / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")
#: What ``makemessages`` leaves out, as in the command the catalogue is maintained with.
IGNORED = (".venv", ".venv-bench", "tests", "benchmarks")
#: The files ``makemessages`` reads for the ``django`` domain.
EXTENSIONS = (".py", ".html", ".txt")
MAKEMESSAGES_OPTIONS = (
    *(f"--ignore={name}" for name in IGNORED),
    "--no-obsolete",
    "--no-location",
    "--no-wrap",
)
MAKEMESSAGES = f"DEBUG=1 python manage.py makemessages -l {LANGUAGE} " + " ".join(
    MAKEMESSAGES_OPTIONS
)
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib", "msgfmt")

pytestmark = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in GETTEXT_TOOLS),
    reason="GNU gettext is not installed (no xgettext/msgmerge/msgfmt): apt-get install gettext",
)


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def _parse_po(path: Path) -> list[Entry]:
    """Entries of a PO file (enough of the format for msgmerge's output)."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None
    seen_msgid = False

    def finish() -> None:
        nonlocal entry, target, seen_msgid
        if seen_msgid:
            entries.append(entry)
        entry, target, seen_msgid = Entry(), None, False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            finish()
            continue
        if line.startswith("#,"):
            if seen_msgid:
                finish()
            entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith("#"):
            if seen_msgid and not line.startswith("#|"):
                finish()
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        value = ast.literal_eval(rest) if rest else ""
        if keyword == "msgctxt" or (keyword == "msgid" and seen_msgid):
            finish()
        entry.obsolete = entry.obsolete or obsolete
        if keyword == "msgctxt":
            entry.msgctxt, target = value, ("msgctxt", 0)
        elif keyword == "msgid":
            entry.msgid, target, seen_msgid = value, ("msgid", 0), True
        elif keyword == "msgid_plural":
            entry.msgid_plural, target = value, ("msgid_plural", 0)
        elif keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            entry.msgstr[index], target = value, ("msgstr", index)
        elif keyword == "" and target is not None:
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, name, (getattr(entry, name) or "") + value)
    finish()
    return entries


def _describe(entry: Entry) -> str:
    context = f"[{entry.msgctxt}] " if entry.msgctxt is not None else ""
    plural = f" / {entry.msgid_plural!r}" if entry.msgid_plural is not None else ""
    return f"{context}{entry.msgid!r}{plural}"


def _copy_translatable_files(destination: Path) -> None:
    """Copy what ``makemessages`` reads (and the catalogue it merges into)."""
    for dirpath, dirnames, filenames in os.walk(ROOT):
        here = Path(dirpath)
        relative = here.relative_to(ROOT)
        dirnames[:] = [
            name
            for name in dirnames
            # makemessages skips hidden directories and the ignored ones the same way.
            if not name.startswith(".") and not (relative == Path(".") and name in IGNORED)
        ]
        for name in filenames:
            if name.endswith(EXTENSIONS) or (here / name) == CATALOGUE:
                target = destination / relative / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(here / name, target)


@pytest.fixture(scope="module")
def generated_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``ja`` catalogue as makemessages leaves it, made in a copy of the project."""
    tmp_path = tmp_path_factory.mktemp("makemessages")
    tree = tmp_path / "tree"
    _copy_translatable_files(tree)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "PYTHONPATH"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        DISPATCH_VAR_DIR=str(tmp_path / "var"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", LANGUAGE, *MAKEMESSAGES_OPTIONS],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"
    return tree / CATALOGUE.relative_to(ROOT)


def test_every_japanese_string_is_translated(generated_catalogue: Path) -> None:
    entries = [e for e in _parse_po(generated_catalogue) if e.msgid and not e.obsolete]
    assert entries, "makemessages produced an empty catalogue"
    fuzzy = [e for e in entries if "fuzzy" in e.flags]
    untranslated = [
        e
        for e in entries
        if "fuzzy" not in e.flags and (not e.msgstr or not all(e.msgstr.values()))
    ]
    problems = [f"untranslated: {_describe(e)}" for e in untranslated] + [
        f"fuzzy: {_describe(e)} -> {e.msgstr.get(0, '')!r}" for e in fuzzy
    ]
    assert not problems, (
        f"locale/{LANGUAGE}/LC_MESSAGES/django.po is out of date: {len(untranslated)} "
        f"untranslated and {len(fuzzy)} fuzzy after makemessages. Run `{MAKEMESSAGES}`, "
        "translate these (drop the fuzzy flag "
        "and the #| lines), then compilemessages. msgmerge also marks an entry fuzzy when "
        "its translation's %(name)s placeholders are not all in the msgid:\n  "
        + "\n  ".join(problems)
    )


def test_no_committed_translation_is_unknown_to_makemessages(generated_catalogue: Path) -> None:
    """A msgid makemessages does not extract is dropped by its next run (``--no-obsolete``).

    Either the string left the code (run makemessages) or the code hides it from
    xgettext, e.g. behind an alias such as ``gettext_lazy as _lazy``: then its
    translation is lost at the next run and the page falls back to English.
    """
    extracted = {(e.msgctxt, e.msgid) for e in _parse_po(generated_catalogue) if e.msgid}
    unknown = [
        e
        for e in _parse_po(CATALOGUE)
        if e.msgid and not e.obsolete and (e.msgctxt, e.msgid) not in extracted
    ]
    assert not unknown, (
        f"{CATALOGUE.relative_to(ROOT)} has {len(unknown)} msgid(s) that `{MAKEMESSAGES}` "
        "does not extract: remove them by running it, or, if the code still uses them, call "
        "gettext/gettext_lazy/... by their own names or `_` (xgettext does not see aliases):"
        "\n  " + "\n  ".join(_describe(e) for e in unknown)
    )


def test_committed_mo_is_compiled_from_the_committed_po(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(CATALOGUE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"msgfmt --check-format refuses the catalogue:\n{result.stderr}"
    assert COMPILED.exists(), f"{COMPILED.relative_to(ROOT)} is missing: run compilemessages"

    # Compared as catalogues, not bytes: another msgfmt version may lay the file out
    # differently for the same messages.
    with compiled.open("rb") as fresh, COMPILED.open("rb") as committed:
        expected = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        actual = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    missing = sorted(str(k) for k in expected.keys() - actual.keys())
    stale = sorted(str(k) for k in expected.keys() & actual.keys() if expected[k] != actual[k])
    extra = sorted(str(k) for k in actual.keys() - expected.keys())
    assert not (missing or stale or extra), (
        f"{COMPILED.relative_to(ROOT)} does not match {CATALOGUE.name}: run `DEBUG=1 python "
        f"manage.py compilemessages -l {LANGUAGE} --ignore=.venv --ignore=.venv-bench`.\n"
        f"  missing: {missing[:20]}\n  different: {stale[:20]}\n  extra: {extra[:20]}"
    )
