"""The journal's bookings: each builder balances, leaves zeros out and books the right accounts."""

from collections.abc import Callable
from decimal import Decimal

import pytest

from money import journal
from money.journal import DEFAULT_CHART, Account, Booking, Chart, Posting

CHART = Chart()
D = Decimal
Transfer = Callable[[Chart, str, int], Booking]

TRANSFERS: list[tuple[Transfer, str, Account, Account]] = [
    (journal.card_capture, "capture", Account.PSP_CLEARING, Account.RECEIVABLE),
    (journal.card_refund, "refund", Account.RECEIVABLE, Account.PSP_CLEARING),
    (
        journal.refund_to_store_credit,
        "store_credit_issued",
        Account.RECEIVABLE,
        Account.STORE_CREDIT,
    ),
    (journal.goodwill_credit, "store_credit_issued", Account.GOODWILL, Account.STORE_CREDIT),
    (journal.credit_hold, "store_credit_held", Account.STORE_CREDIT, Account.STORE_CREDIT_HELD),
    (
        journal.credit_release,
        "store_credit_released",
        Account.STORE_CREDIT_HELD,
        Account.STORE_CREDIT,
    ),
    (
        journal.credit_redemption,
        "store_credit_redeemed",
        Account.STORE_CREDIT_HELD,
        Account.RECEIVABLE,
    ),
]
IDS = [build.__name__ for build, *_ in TRANSFERS]


def sides(booking: Booking) -> list[tuple[str, int, int]]:
    return [(p.account, p.debit, p.credit) for p in booking.postings]


@pytest.mark.parametrize(("build", "kind", "debit", "credit"), TRANSFERS, ids=IDS)
def test_a_transfer_debits_one_account_and_credits_the_other(
    build: Transfer, kind: str, debit: Account, credit: Account
) -> None:
    booking = build(CHART, "ref-1", 1250)

    assert booking.kind == kind
    assert booking.balanced
    assert sides(booking) == [(CHART.account(debit), 1250, 0), (CHART.account(credit), 0, 1250)]
    assert "ref-1" in booking.description


@pytest.mark.parametrize(("build", "kind", "debit", "credit"), TRANSFERS, ids=IDS)
def test_a_transfer_of_nothing_has_no_postings(
    build: Transfer, kind: str, debit: Account, credit: Account
) -> None:
    assert build(CHART, "ref-1", 0).postings == []


@pytest.mark.parametrize(("build", "kind", "debit", "credit"), TRANSFERS, ids=IDS)
def test_a_negative_transfer_is_refused(
    build: Transfer, kind: str, debit: Account, credit: Account
) -> None:
    with pytest.raises(ValueError, match="positive"):
        build(CHART, "ref-1", -1)


def test_an_invoice_raises_the_receivable_by_its_gross_with_revenue_and_vat_per_rate() -> None:
    booking = journal.invoice(
        CHART, "INV-2026-000001", [(D("19.00"), 1000, 190), (D("7"), 500, 35)]
    )

    assert (booking.kind, booking.description) == ("invoice", "Invoice INV-2026-000001")
    assert booking.balanced
    assert sides(booking) == [
        ("1400", 1725, 0),
        ("8400-19", 0, 1000),
        ("8400-7", 0, 500),
        ("1776-19", 0, 190),
        ("1776-7", 0, 35),
    ]


def test_a_zero_rated_share_books_revenue_without_a_vat_line() -> None:
    booking = journal.invoice(CHART, "INV-1", [(D("19"), 1000, 190), (D("0"), 300, 0)])

    assert booking.balanced
    assert ("1776-0", 0, 0) not in sides(booking)
    assert [p.account for p in booking.postings] == ["1400", "8400-19", "8400-0", "1776-19"]
    assert all((p.debit == 0) != (p.credit == 0) for p in booking.postings)


def test_two_shares_of_one_rate_are_one_line_per_account() -> None:
    booking = journal.invoice(CHART, "INV-1", [(D("19"), 1000, 190), (D("19.00"), 100, 19)])

    assert sides(booking) == [("1400", 1309, 0), ("8400-19", 0, 1100), ("1776-19", 0, 209)]


def test_a_credit_note_debits_refunds_and_vat_per_rate_against_the_receivable() -> None:
    booking = journal.credit_note(CHART, "CN-2026-000001", [(D("25.5"), 1000, 255)])

    assert (booking.kind, booking.description) == ("credit_note", "Credit note CN-2026-000001")
    assert booking.balanced
    assert sides(booking) == [("8700-25.5", 1000, 0), ("1776-25.5", 255, 0), ("1400", 0, 1255)]


def test_a_document_of_nothing_has_no_postings() -> None:
    assert journal.invoice(CHART, "INV-1", []).postings == []
    assert journal.credit_note(CHART, "CN-1", [(D("19"), 0, 0)]).postings == []


def test_a_booking_balances_only_when_its_debits_equal_its_credits() -> None:
    debit = Posting(account="1", debit=5)
    credits = [Posting(account="2", credit=2), Posting(account="3", credit=3)]

    assert Booking(kind="k", description="d", postings=[debit, *credits]).balanced
    assert not Booking(kind="k", description="d", postings=[debit, credits[0]]).balanced


@pytest.mark.parametrize(("debit", "credit"), [(0, 0), (1, 1), (-1, 0), (0, -1)])
def test_a_posting_is_one_positive_side(debit: int, credit: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        Posting(account="1400", debit=debit, credit=credit)


def test_the_default_chart_names_every_account_and_fills_in_the_rate() -> None:
    assert set(DEFAULT_CHART) == set(Account)
    assert CHART.account(Account.RECEIVABLE) == "1400"
    assert CHART.account(Account.REVENUE, D("19.00")) == "8400-19"
    assert CHART.account(Account.VAT_PAYABLE, D("25.50")) == "1776-25.5"
    assert CHART.account(Account.REFUNDS, D("0")) == "8700-0"


def test_overrides_replace_the_defaults_they_name() -> None:
    chart = Chart({"psp_clearing": "1360", "revenue": "REV/{rate}%", "goodwill": "6800"})

    assert chart.account(Account.PSP_CLEARING) == "1360"
    assert chart.account(Account.REVENUE, D("7")) == "REV/7%"
    assert chart.account(Account.GOODWILL) == "6800"
    assert chart.account(Account.RECEIVABLE) == "1400"  # not overridden
    assert journal.card_capture(chart, "o-1", 5).postings[0].account == "1360"


def test_unknown_accounts_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown accounts bank, cash"):
        Chart({"cash": "1000", "receivable": "1200", "bank": "1800"})


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"revenue": "8400"}, "revenue must contain"),
        ({"vat_payable": "1776"}, "vat_payable must contain"),
        ({"refunds": "8700-rate"}, "refunds must contain"),
        ({"receivable": "1400-{rate}"}, "receivable must not contain"),
        ({"store_credit": " "}, "blank"),
        ({"revenue": "8" * 59 + "-{rate}"}, "longer than 64"),
    ],
)
def test_a_code_that_cannot_name_its_account_is_refused(
    overrides: dict[str, str], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        Chart(overrides)


def test_a_per_rate_account_needs_a_rate_and_a_flat_one_refuses_one() -> None:
    with pytest.raises(ValueError, match="which rate"):
        CHART.account(Account.REVENUE)
    with pytest.raises(ValueError, match="not kept per tax rate"):
        CHART.account(Account.RECEIVABLE, D("19"))
