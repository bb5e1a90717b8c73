"""Explanation sentences in the shopper's locale: gettext catalogues, English as the fallback.

The catalogues are PO files in the package (`recommender/locales/<ll_CC>/LC_MESSAGES/kgrec.po`),
read with Babel and compiled in memory on first use, so the file a translator edits is the
file that runs. A request's locale picks the catalogue of the same language and script
(`de-AT` reads `de_DE`, `zh-SG` reads `zh_CN`; `zh-TW`, Traditional script, does not); anything
else gets the English source strings. Messages use `%(name)s` placeholders so Babel's format
checker can prove every translation keeps them (tests/test_explanation_messages.py).
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.core import Locale, UnknownLocaleError, get_global
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "kgrec"


def catalogue_path(code: str) -> Path:
    return LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_catalogues() -> list[str]:
    """The catalogue codes shipped, e.g. ['de_DE', 'zh_CN']."""
    return sorted(p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def read_catalogue(code: str) -> Catalog:
    with catalogue_path(code).open("rb") as handle:
        return read_po(handle, locale=code, domain=DOMAIN)


def _language_script(locale: Locale) -> tuple[str, str | None]:
    """A locale's language with its script, the likely one when the code names none (zh → Hans)."""
    if locale.script:
        return locale.language, locale.script
    likely = get_global("likely_subtags")
    key = f"{locale.language}_{locale.territory}" if locale.territory else locale.language
    parts = str(likely.get(key) or likely.get(locale.language) or "").split("_")
    return locale.language, parts[1] if len(parts) > 2 else None


def catalogue_for(locale: str | None) -> str | None:
    """The shipped catalogue a request locale reads, or None for English."""
    if not locale:
        return None
    try:
        wanted = Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None
    codes = available_catalogues()
    exact = str(wanted)
    if exact in codes:
        return exact
    want = _language_script(wanted)
    for code in codes:
        if _language_script(Locale.parse(code)) == want:
            return code
    return None


@lru_cache(maxsize=32)
def _compiled(code: str) -> gettext.NullTranslations:
    buffer = io.BytesIO()
    write_mo(buffer, read_catalogue(code))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translations(locale: str | None) -> gettext.NullTranslations:
    """The sentences for `locale`; `NullTranslations` (the English source) when none is shipped."""
    code = catalogue_for(locale)
    return _compiled(code) if code else gettext.NullTranslations()
