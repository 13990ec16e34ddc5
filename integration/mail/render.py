"""Customer e-mails rendered from an event's data: a subject, a plain-text part and an HTML part.

The wording lives in the templates, one folder per language (`templates/<language>/<kind>.txt`
and `.html`); this module only chooses the template and formats values for the language:

- Money (integer minor units and a currency code) with Babel in the language's locale, en_US for
  English and de_DE for German: EUR 1999 is "€19.99" or "19,99 €", JPY 500 is "¥500".
- Times arrive as ISO 8601 strings. English mails go anywhere in the world, so they show UTC and
  say so ("Dec 9, 2026, 2:00:00 PM UTC"); German mails go to DE, AT, CH and LI, which share one
  clock, so they show Europe/Berlin time with its name ("09.12.2026, 15:00:00 MEZ"). A date is the
  day in that same zone.
- Countries (ISO 3166 codes) by their name in the language: "Germany", "Deutschland".

Codes (why an order was cancelled, why an item came back) are put into words by each language's
`_words.txt`, so a customer never reads one.

The subject is the `subject` block of the text template: it is plain text, so it must not be
HTML-escaped. The HTML templates get it as `subject` (for <title>) and the language as `language`.
Templates use StrictUndefined: a key missing from the data is an error, never an empty string.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from functools import cache, partial
from pathlib import Path
from typing import Any

from babel import Locale as BabelLocale
from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_currency, get_currency_precision
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
LANGUAGES = ("en", "de")
GERMAN_SPEAKING = frozenset({"DE", "AT", "CH", "LI"})
SPACES = re.compile(r"[^\S\xa0\u202f]+")  # but not the no-break spaces in "19,99 €" or "2:00 PM"
BLANK_LINES = re.compile(r"\n{3,}")  # where optional parts were left out: one blank line is enough


class MailKind(StrEnum):
    """What a customer e-mail tells; each kind is one template per language and format."""

    CONFIRMED = "confirmed"  # stock reserved and payment authorized
    BACKORDERED = "backordered"  # waiting for stock: which items, until when
    DELAYED = "delayed"  # not shipped within the SLA (48 h by default)
    SHIPPED = "shipped"  # carrier and tracking number
    DELIVERED = "delivered"
    CANCELLED = "cancelled"  # the reason in plain words
    REFUND_ISSUED = "refund_issued"  # a refund (card or store credit) that is not a return's
    RETURN_LABEL = "return_label"  # an approved return's label: carrier, tracking number, send by
    RETURN_RECEIVED = "return_received"
    RETURN_REFUNDED = "return_refunded"  # the money for a return went back


@dataclass(frozen=True, kw_only=True)
class Rendered:
    """One e-mail's content, ready for `smtp.build_message`."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, kw_only=True)
class Locale:
    """How one language formats values: Babel's locale and the zone its times are shown in."""

    babel: str
    zone: tzinfo


LOCALES = {
    "en": Locale(babel="en_US", zone=get_timezone("UTC")),
    "de": Locale(babel="de_DE", zone=get_timezone("Europe/Berlin")),
}


def language_for(country: str | None) -> str:
    """The language of the mails to a shipping country (ISO 3166 alpha-2): German where it is
    spoken as the main language, English everywhere else and when the country is unknown."""
    return "de" if country is not None and country.upper() in GERMAN_SPEAKING else "en"


def render(kind: MailKind, language: str, data: Mapping[str, Any]) -> Rendered:
    """The mail of `kind` in `language` for one event's data (plus the shop's name, `shop`)."""
    if language not in LANGUAGES:
        raise ValueError(f"no mail templates for language {language!r}; have {LANGUAGES}")
    environment = _environment(language)
    text_template = environment.get_template(f"{language}/{kind.value}.txt")
    subject = _subject(text_template, data)
    html_context = {**data, "subject": subject, "language": language}
    return Rendered(
        subject=subject,
        text=BLANK_LINES.sub("\n\n", text_template.render(data)).strip() + "\n",
        html=environment.get_template(f"{language}/{kind.value}.html").render(html_context),
    )


def _subject(template: Template, data: Mapping[str, Any]) -> str:
    """The text template's `subject` block on one line: a header can hold no line breaks."""
    block = template.blocks["subject"]
    return SPACES.sub(" ", "".join(block(template.new_context(dict(data))))).strip()


@cache
def _environment(language: str) -> Environment:
    """One environment per language, its filters bound to the language's locale."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # the HTML part ends with a line break, as the text part does
    )
    environment.filters.update(_filters(LOCALES[language]))
    return environment


def _filters(locale: Locale) -> dict[str, Callable[..., str]]:
    return {
        "money": partial(format_money, locale=locale),
        "datetime": partial(format_moment, locale=locale),
        "date": partial(format_day, locale=locale),
        "country": partial(country_name, locale=locale),
    }


def format_money(amount: int, currency: str, *, locale: Locale) -> str:
    """Minor units as the currency's amount: its own number of decimals (JPY none, EUR two)."""
    digits = get_currency_precision(currency)
    return format_currency(Decimal(amount).scaleb(-digits), currency, locale=locale.babel)


def format_moment(iso: str, *, locale: Locale) -> str:
    """An ISO 8601 time in the language's zone, the zone named ("... 2:00:00 PM UTC")."""
    moment = _aware(iso)
    shown = format_datetime(moment, format="medium", tzinfo=locale.zone, locale=locale.babel)
    zone = format_datetime(moment, format="z", tzinfo=locale.zone, locale=locale.babel)
    return f"{shown} {zone}"


def format_day(iso: str, *, locale: Locale) -> str:
    """An ISO 8601 date, or the day of an ISO 8601 time in the language's zone."""
    if len(iso) == len("2026-12-09"):
        day = date.fromisoformat(iso)
    else:
        day = _aware(iso).astimezone(locale.zone).date()
    return format_date(day, format="long", locale=locale.babel)


def country_name(code: str, *, locale: Locale) -> str:
    """An ISO 3166 country code in the language ("DE": "Germany", "Deutschland")."""
    name: str = BabelLocale.parse(locale.babel).territories.get(code.upper(), code)
    return name


def _aware(iso: str) -> datetime:
    """Our times are UTC-aware; one without a zone would be read in the server's, so refuse it."""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {iso!r}")
    return moment
