"""Customer e-mails: every kind in every language from realistic event data, values formatted in
the customer's language, HTML escaped and text not, codes in plain words; SMTP URLs and messages."""

from copy import deepcopy
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import jinja2
import pytest

from integration.mail.render import LANGUAGES, MailKind, Rendered, language_for, render
from integration.mail.smtp import SmtpConfig, build_message

Json = dict[str, Any]
SHOP = "Example Shop GmbH"
KNOWN_REASONS = [
    "out_of_stock",
    "payment_declined",
    "store_credit_insufficient",
    "cancelled_by_support",
    "cancelled_by_ops",
    "pick_failed",
    "payment_failed",
    "ship_failed",
    "something_new",  # a code added later: still plain words
]


def make_order(**overrides: Any) -> Json:
    """An order as an event's `data.order` carries it: 2 × €19.99 and 1 × €5.00, €5.00 of it paid
    with store credit, shipping to Berlin."""
    order: Json = {
        "id": "ord-1",
        "channel": "web",
        "status": "shipped",
        "status_reason": None,
        "customer": {"id": "cus-1", "email": "ada@example.com", "name": "Ada Lovelace"},
        "shipping_address": {
            "name": "Ada Lovelace",
            "line1": "Hauptstraße 1",
            "line2": None,
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        "lines": [
            {"sku": "SKU-1", "quantity": 2, "unit_price": 1999},
            {"sku": "SKU-2", "quantity": 1, "unit_price": 500},
        ],
        "currency": "EUR",
        "total": 4498,
        "store_credit": 500,
        "shipments": [],
        "exchange_for": None,
        "placed_by_return": None,
        "created_at": "2026-12-07T14:00:00+00:00",
        "updated_at": "2026-12-08T09:30:00+00:00",
    }
    return {**order, **overrides}


def make_refund(**overrides: Any) -> Json:
    refund: Json = {
        "id": "ref-1",
        "order_id": "ord-1",
        "status": "succeeded",
        "amount": 1999,
        "currency": "EUR",
        "method": "original_payment",
        "reason": "goodwill",
        "lines": [],
        "failure_reason": None,
        "credit_note": "GS-2026-0001",
        "return_id": None,
        "created_at": "2026-12-10T08:00:00+00:00",
        "completed_at": "2026-12-10T08:00:05+00:00",
    }
    return {**refund, **overrides}


def make_return(**overrides: Any) -> Json:
    return_: Json = {
        "id": "ret-1",
        "kind": "return",
        "order_id": "ord-1",
        "customer_id": "cus-1",
        "channel": "web",
        "status": "awaiting_receipt",
        "resolution": "refund",
        "claim_type": None,
        "advance": False,
        "lines": [
            {"sku": "SKU-1", "quantity": 2, "reason": "damaged", "resellable": 1, "damaged": 1}
        ],
        "exchange_lines": [],
        "exchange_order_id": None,
        "label": {"carrier": "DHL", "tracking_number": "JJD000390007"},
        "receive_by": "2026-12-24T23:00:00+00:00",
        "created_at": "2026-12-10T08:00:00+00:00",
        "updated_at": "2026-12-10T08:00:00+00:00",
    }
    return {**return_, **overrides}


def make_data(kind: MailKind, order: Json | None = None, **overrides: Any) -> Json:
    """The event data a mail of `kind` is rendered from, with the shop's name."""
    extra: dict[MailKind, Json] = {
        MailKind.CONFIRMED: {},
        MailKind.BACKORDERED: {"waiting_for": ["SKU-1"], "until": "2026-12-09T14:00:00+00:00"},
        MailKind.DELAYED: {"due_at": "2026-12-09T14:00:00+00:00"},
        MailKind.SHIPPED: {"shipment": {"carrier": "DHL", "tracking_number": "00340434161094"}},
        MailKind.DELIVERED: {},
        MailKind.CANCELLED: {"reason": "out_of_stock", "note": None},
        MailKind.REFUND_ISSUED: {"refund": make_refund()},
        MailKind.RETURN_LABEL: {"return": make_return()},
        MailKind.RETURN_RECEIVED: {"return": make_return(status="received")},
        MailKind.RETURN_REFUNDED: {
            "return": make_return(status="completed"),
            "refund": make_refund(return_id="ret-1", method="store_credit"),
        },
    }
    return {"order": order or make_order(), "shop": SHOP, **extra[kind], **overrides}


def mail(kind: MailKind, language: str, order: Json | None = None, **overrides: Any) -> Rendered:
    return render(kind, language, make_data(kind, order, **overrides))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(MailKind))
def test_every_kind_renders_in_every_language(kind: MailKind, language: str) -> None:
    rendered = mail(kind, language)

    assert rendered.subject
    assert "\n" not in rendered.subject
    assert "ord-1" in rendered.subject
    assert "Ada Lovelace" in rendered.text
    assert SHOP in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{language}">' in rendered.html
    assert "Ada Lovelace" in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(MailKind))
def test_html_fetches_nothing_from_elsewhere(kind: MailKind, language: str) -> None:
    html = mail(kind, language).html

    assert "http:" not in html
    assert "https:" not in html
    assert "src=" not in html
    assert "<link" not in html


def test_the_german_shipped_mail_names_the_tracking_number_and_formats_euros_the_german_way() -> (
    None
):
    rendered = mail(MailKind.SHIPPED, "de")

    for part in (rendered.text, rendered.html):
        assert "00340434161094" in part
        assert "Sendungsnummer" in part
        assert "19,99\xa0€" in part
        assert "44,98\xa0€" in part
    assert "unterwegs" in rendered.subject


def test_the_english_mail_formats_euros_the_american_way() -> None:
    rendered = mail(MailKind.SHIPPED, "en")

    assert "€19.99" in rendered.text
    assert "€44.98" in rendered.html
    assert "00340434161094" in rendered.text


def test_yen_have_no_decimals() -> None:
    order = make_order(
        currency="JPY", lines=[{"sku": "SKU-1", "quantity": 2, "unit_price": 500}], total=1000
    )

    rendered = mail(MailKind.CONFIRMED, "en", order)

    assert "¥500" in rendered.text
    assert "¥1,000" in rendered.text
    assert "¥500.00" not in rendered.text


def test_a_refund_amount_is_in_the_refunds_currency() -> None:
    refund = make_refund(amount=12345, currency="USD")

    rendered = mail(MailKind.REFUND_ISSUED, "de", refund=refund)

    assert "123,45\xa0$" in rendered.subject


def test_english_times_are_utc_and_say_so() -> None:
    rendered = mail(MailKind.DELAYED, "en")

    assert "Dec 9, 2026, 2:00:00\u202fPM UTC" in rendered.text


def test_german_times_are_berlin_time_and_say_so() -> None:
    winter = mail(MailKind.DELAYED, "de")
    summer = mail(MailKind.DELAYED, "de", due_at="2026-07-09T14:00:00+00:00")

    assert "09.12.2026, 15:00:00 MEZ" in winter.text
    assert "09.07.2026, 16:00:00 MESZ" in summer.text


def test_a_date_is_the_day_in_the_languages_zone() -> None:
    late_evening_utc = make_return(receive_by="2026-12-24T23:00:00+00:00")

    english = mail(MailKind.RETURN_LABEL, "en", **{"return": late_evening_utc})
    german = mail(MailKind.RETURN_LABEL, "de", **{"return": late_evening_utc})

    assert "December 24, 2026" in english.text
    assert "25. Dezember 2026" in german.text


def test_the_country_is_named_in_the_language() -> None:
    assert "Germany" in mail(MailKind.CONFIRMED, "en").text
    assert "Deutschland" in mail(MailKind.CONFIRMED, "de").text


def test_html_escapes_what_the_customer_typed_and_the_text_part_does_not() -> None:
    hostile = "<script>alert(1)</script>"
    order = make_order(customer={"id": "cus-1", "email": "x@example.com", "name": hostile})

    rendered = mail(MailKind.CONFIRMED, "en", order)

    assert hostile not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert f"Hello {hostile}," in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(MailKind))
def test_no_value_from_the_data_reaches_the_html_unescaped(kind: MailKind, language: str) -> None:
    data = hostile(make_data(kind, reason="cancelled_by_support", note="<b>note</b>"))

    html = render(kind, language, data).html

    assert "<b>" not in html


def hostile(data: Json) -> Json:
    """The data with `<b>` added to every string a person could have typed (not codes, times,
    currencies or countries, which the templates look up or parse)."""
    data = deepcopy(data)
    order = data["order"]
    data["shop"] += "<b>"
    order["id"] += "<b>"
    order["customer"]["name"] += "<b>"
    for key in ("name", "line1", "city", "postal_code"):
        order["shipping_address"][key] += "<b>"
    for line in order["lines"]:
        line["sku"] += "<b>"
    for key in ("shipment", "return"):
        if key in data:
            target = data[key]["label"] if key == "return" else data[key]
            target["tracking_number"] += "<b>"
            target["carrier"] += "<b>"
    if "refund" in data:
        data["refund"]["credit_note"] += "<b>"
    return data


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", KNOWN_REASONS)
def test_a_cancellation_says_why_in_plain_words_and_never_shows_the_code(
    reason: str, language: str
) -> None:
    rendered = mail(MailKind.CANCELLED, language, reason=reason)

    for part in (rendered.subject, rendered.text, rendered.html):
        assert reason not in part
    assert "_" not in rendered.text


@pytest.mark.parametrize(
    ("reason", "english", "german"),
    [
        ("out_of_stock", "out of stock", "nicht vorrätig"),
        ("payment_declined", "payment was declined", "Zahlung wurde abgelehnt"),
        ("store_credit_insufficient", "store credit did not cover", "Guthaben reichte"),
        ("cancelled_by_support", "customer service cancelled", "Kundenservice"),
        ("cancelled_by_ops", "our team had to cancel", "Unser Team"),
        ("pick_failed", "a problem on our side", "Problem auf unserer Seite"),
        ("ship_failed", "a problem on our side", "Problem auf unserer Seite"),
        ("something_new", "we could not complete it", "Wir konnten sie nicht abschließen"),
    ],
)
def test_each_cancellation_reason_has_its_own_words(reason: str, english: str, german: str) -> None:
    assert english in mail(MailKind.CANCELLED, "en", reason=reason).text
    assert german in mail(MailKind.CANCELLED, "de", reason=reason).text


def test_supports_note_is_shown_for_a_cancellation_by_support() -> None:
    rendered = mail(MailKind.CANCELLED, "en", reason="cancelled_by_support", note="As you asked.")

    assert "As you asked." in rendered.text
    assert "As you asked." in rendered.html


def test_a_note_is_not_shown_for_other_cancellations() -> None:
    rendered = mail(MailKind.CANCELLED, "en", reason="cancelled_by_ops", note="ops ticket 42")

    assert "ops ticket 42" not in rendered.text
    assert "ops ticket 42" not in rendered.html


@pytest.mark.parametrize(
    ("method", "english", "german"),
    [
        ("original_payment", "to the payment method you paid with", "auf das Zahlungsmittel"),
        ("store_credit", "as store credit", "als Guthaben"),
    ],
)
def test_a_refund_says_where_the_money_goes(method: str, english: str, german: str) -> None:
    refund = make_refund(method=method)

    assert english in mail(MailKind.REFUND_ISSUED, "en", refund=refund).text
    assert german in mail(MailKind.REFUND_ISSUED, "de", refund=refund).text


def test_a_return_label_mail_names_carrier_tracking_number_and_the_last_day() -> None:
    rendered = mail(MailKind.RETURN_LABEL, "en")

    assert "DHL" in rendered.text
    assert "JJD000390007" in rendered.html
    assert "December 24, 2026" in rendered.html


def test_a_received_return_counts_the_damaged_units() -> None:
    assert "1 of them damaged" in mail(MailKind.RETURN_RECEIVED, "en").text
    assert "davon 1 beschädigt" in mail(MailKind.RETURN_RECEIVED, "de").text


def test_a_missing_key_is_an_error_not_an_empty_string() -> None:
    data = make_data(MailKind.SHIPPED)
    del data["shipment"]

    with pytest.raises(jinja2.UndefinedError):
        render(MailKind.SHIPPED, "en", data)


def test_a_missing_nested_key_is_an_error_too() -> None:
    order = make_order()
    del order["customer"]["name"]

    with pytest.raises(jinja2.UndefinedError):
        mail(MailKind.DELIVERED, "de", order)


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="without a zone"):
        mail(MailKind.DELAYED, "en", due_at="2026-12-09T14:00:00")


def test_a_language_without_templates_is_refused() -> None:
    with pytest.raises(ValueError, match="no mail templates"):
        mail(MailKind.CONFIRMED, "fr")


def test_a_line_break_in_the_data_does_not_break_the_subject() -> None:
    rendered = mail(MailKind.DELIVERED, "en", make_order(id="ord-1\nBcc: x@example.com"))

    assert "\n" not in rendered.subject


@pytest.mark.parametrize(
    ("country", "language"),
    [
        ("DE", "de"),
        ("AT", "de"),
        ("CH", "de"),
        ("LI", "de"),
        ("at", "de"),
        ("FR", "en"),
        ("US", "en"),
        (None, "en"),
    ],
)
def test_german_speaking_countries_get_german_and_all_others_english(
    country: str | None, language: str
) -> None:
    assert language_for(country) == language


def smtp(**overrides: Any) -> SmtpConfig:
    fields: Json = {"host": "mail.example.com", "port": 25, "starttls": False}
    fields |= {"implicit_tls": False, "username": None, "password": None}
    return SmtpConfig(**(fields | overrides))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", smtp()),
        ("smtp://127.0.0.1:8025", smtp(host="127.0.0.1", port=8025)),
        (
            "smtp://shop%40example.com:p%40ss%3Aw0rd@mail.example.com:587?starttls=true",
            smtp(port=587, starttls=True, username="shop@example.com", password="p@ss:w0rd"),
        ),
        ("smtps://mail.example.com", smtp(port=465, implicit_tls=True)),
        (
            "smtps://u:p@mail.example.com:2465",
            smtp(port=2465, implicit_tls=True, username="u", password="p"),
        ),
    ],
)
def test_an_smtp_url_reads_as_its_config(url: str, expected: SmtpConfig) -> None:
    assert SmtpConfig.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://mail.example.com", "scheme"),
        ("mail.example.com:25", "scheme"),
        ("smtp://", "host"),
        ("smtp://mail.example.com:port", "port"),
        ("smtp://mail.example.com:0", "port"),
        ("smtp://mail.example.com:70000", "port"),
        ("smtp://user@mail.example.com", "both a user and a password"),
        ("smtp://:secret@mail.example.com", "both a user and a password"),
        ("smtp://mail.example.com/inbox", "no path"),
        ("smtp://mail.example.com?tls=true", "only the option starttls"),
        ("smtp://mail.example.com?starttls=yes", "true or false"),
        ("smtps://mail.example.com?starttls=true", "TLS from the start"),
    ],
)
def test_an_smtp_url_of_another_form_is_refused(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        SmtpConfig.from_url(url)


def test_a_refusal_and_the_config_never_show_the_password() -> None:
    with pytest.raises(ValueError, match="no path") as refused:
        SmtpConfig.from_url("smtp://user:hunter2@mail.example.com/x")
    config = SmtpConfig.from_url("smtp://user:hunter2@mail.example.com")

    assert "hunter2" not in str(refused.value)
    assert "hunter2" not in repr(config)


def test_a_message_is_text_then_html_with_the_given_headers() -> None:
    rendered = mail(MailKind.SHIPPED, "de")

    message = build_message(
        rendered, "Ada Lovelace <ada@example.com>", "Shop <shop@example.com>", "<s.42.ord-1@x.com>"
    )

    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["Message-ID"] == "<s.42.ord-1@x.com>"
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    assert message["From"] == "Shop <shop@example.com>"
    assert message["Subject"] == rendered.subject
    assert parsedate_to_datetime(message["Date"]).utcoffset() == UTC.utcoffset(None)


def test_a_message_id_without_angle_brackets_is_refused() -> None:
    with pytest.raises(ValueError, match="Message-ID"):
        build_message(mail(MailKind.DELIVERED, "en"), "a@example.com", "b@example.com", "id-1")
