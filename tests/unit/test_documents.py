"""money.documents: drafts from gross lines, goodwill credit notes, JSON round trips, numbers."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from money.documents import (
    DocumentKind,
    DocumentLine,
    Draft,
    PricedLine,
    TaxLine,
    breakdown_from_json,
    breakdown_json,
    document_number,
    draft,
    goodwill_draft,
    lines_from_json,
    lines_json,
)
from money.tax import split_gross

STANDARD, REDUCED = Decimal("19"), Decimal("7")
MIXED = [
    PricedLine(sku="MUG", quantity=2, unit_price=1999, tax_rate=STANDARD),
    PricedLine(sku="BOOK", quantity=1, unit_price=2490, tax_rate=REDUCED),
    PricedLine(sku="TEA", quantity=3, unit_price=499, tax_rate=REDUCED),
    PricedLine(sku="CABLE", quantity=1, unit_price=999, tax_rate=STANDARD),
]
PRICED = st.builds(
    PricedLine,
    sku=st.sampled_from(["A", "B", "C"]),
    quantity=st.integers(min_value=0, max_value=50),
    unit_price=st.integers(min_value=0, max_value=10**6),
    tax_rate=st.sampled_from([Decimal("0"), REDUCED, STANDARD, Decimal("25.5")]),
)


def nets_by_rate(result: Draft) -> dict[Decimal, int]:
    sums: dict[Decimal, int] = {}
    for line in result.lines:
        sums[line.tax_rate] = sums.get(line.tax_rate, 0) + line.net
    return sums


@given(lines=st.lists(PRICED, max_size=10))
def test_totals_are_the_sums_of_the_breakdown(lines: list[PricedLine]) -> None:
    result = draft(lines)

    assert result.net_total == sum(row.net for row in result.tax_breakdown)
    assert result.tax_total == sum(row.tax for row in result.tax_breakdown)
    assert result.total == result.net_total + result.tax_total
    assert result.total == sum(line.quantity * line.unit_price for line in lines)


@given(lines=st.lists(PRICED, max_size=10))
def test_line_nets_of_each_rate_sum_to_its_breakdown_net(lines: list[PricedLine]) -> None:
    result = draft(lines)

    assert nets_by_rate(result) == {row.rate: row.net for row in result.tax_breakdown}
    assert all(line.net + line.tax == line.gross for line in result.lines)
    assert all(0 <= line.tax <= line.gross for line in result.lines)


def test_a_mixed_rate_order_is_taxed_per_rate_on_the_rates_gross() -> None:
    result = draft(MIXED)

    # 19%: 2 * 19.99 + 9.99 = 49.97; 7%: 24.90 + 3 * 4.99 = 39.87.
    assert result.tax_breakdown == [
        TaxLine(rate=STANDARD, net=4199, tax=798),
        TaxLine(rate=REDUCED, net=3726, tax=261),
    ]
    assert (result.net_total, result.tax_total, result.total) == (7925, 1059, 8984)
    assert split_gross(4997, STANDARD) == (4199, 798)
    assert split_gross(3987, REDUCED) == (3726, 261)


def test_a_mixed_rate_orders_lines_keep_their_order_and_share_the_rates_net() -> None:
    result = draft(MIXED)

    assert result.lines == [
        DocumentLine(
            sku="MUG",
            quantity=2,
            unit_price=1999,
            net=3360,
            tax_rate=STANDARD,
            tax=638,
            gross=3998,
        ),
        DocumentLine(
            sku="BOOK", quantity=1, unit_price=2490, net=2327, tax_rate=REDUCED, tax=163, gross=2490
        ),
        DocumentLine(
            sku="TEA", quantity=3, unit_price=499, net=1399, tax_rate=REDUCED, tax=98, gross=1497
        ),
        DocumentLine(
            sku="CABLE", quantity=1, unit_price=999, net=839, tax_rate=STANDARD, tax=160, gross=999
        ),
    ]


def test_the_breakdown_is_sorted_by_rate_descending() -> None:
    lines = [
        PricedLine(sku=str(rate), quantity=1, unit_price=100, tax_rate=Decimal(rate))
        for rate in ["7", "0", "25.5", "19"]
    ]

    rates = [row.rate for row in draft(lines).tax_breakdown]

    assert rates == [Decimal("25.5"), Decimal("19"), Decimal("7"), Decimal("0")]


def test_lines_of_quantity_zero_are_dropped() -> None:
    lines = [*MIXED, PricedLine(sku="GONE", quantity=0, unit_price=500, tax_rate=Decimal("0"))]

    result = draft(lines)

    assert [line.sku for line in result.lines] == ["MUG", "BOOK", "TEA", "CABLE"]
    assert [row.rate for row in result.tax_breakdown] == [STANDARD, REDUCED]


def test_nothing_to_invoice_is_an_empty_draft() -> None:
    assert draft([]) == Draft(lines=[], tax_breakdown=[], net_total=0, tax_total=0, total=0)


@pytest.mark.parametrize(
    "line",
    [
        PricedLine(sku="X", quantity=-1, unit_price=100, tax_rate=STANDARD),
        PricedLine(sku="X", quantity=1, unit_price=-100, tax_rate=STANDARD),
        PricedLine(sku="X", quantity=1, unit_price=100, tax_rate=Decimal("100")),
    ],
    ids=["negative quantity", "negative price", "rate of 100"],
)
def test_a_line_no_invoice_could_show_is_refused(line: PricedLine) -> None:
    with pytest.raises(ValueError, match=r"negative|rate"):
        draft([line])


def test_goodwill_is_spread_over_the_invoices_rates_by_their_gross() -> None:
    invoice = draft(MIXED)  # gross 49.97 at 19%, 39.87 at 7%

    credit = goodwill_draft(1000, invoice.tax_breakdown)

    assert [(line.sku, line.quantity, line.unit_price, line.tax_rate) for line in credit.lines] == [
        ("GOODWILL", 1, 556, STANDARD),  # 10.00 * 49.97 / 89.84 = 5.562
        ("GOODWILL", 1, 444, REDUCED),
    ]
    assert credit.total == 1000
    assert credit.tax_breakdown == [
        TaxLine(rate=STANDARD, net=467, tax=89),
        TaxLine(rate=REDUCED, net=415, tax=29),
    ]


def test_goodwill_of_the_whole_invoice_gives_back_each_rates_gross() -> None:
    invoice = draft(MIXED)

    credit = goodwill_draft(invoice.total, invoice.tax_breakdown)

    assert credit.tax_breakdown == invoice.tax_breakdown


def test_a_rate_whose_goodwill_share_rounds_to_nothing_gets_no_line() -> None:
    breakdown = [TaxLine(rate=STANDARD, net=8403, tax=1597), TaxLine(rate=REDUCED, net=9, tax=1)]

    credit = goodwill_draft(1, breakdown)

    assert [(line.unit_price, line.tax_rate) for line in credit.lines] == [(1, STANDARD)]


@pytest.mark.parametrize("amount", [0, -1, 8985], ids=["zero", "negative", "over the total"])
def test_goodwill_must_be_positive_and_within_the_invoice(amount: int) -> None:
    with pytest.raises(ValueError, match="goodwill amount"):
        goodwill_draft(amount, draft(MIXED).tax_breakdown)


def test_lines_json_keeps_ints_and_spells_rates() -> None:
    line = DocumentLine(
        sku="BOOK",
        quantity=1,
        unit_price=2490,
        net=2327,
        tax_rate=Decimal("7.00"),
        tax=163,
        gross=2490,
    )

    assert lines_json([line]) == [
        {
            "sku": "BOOK",
            "quantity": 1,
            "unit_price": 2490,
            "net": 2327,
            "tax_rate": "7",
            "tax": 163,
            "gross": 2490,
        }
    ]


def test_breakdown_json_keeps_ints_and_spells_rates() -> None:
    row = TaxLine(rate=Decimal("25.50"), net=10000, tax=2550)

    assert breakdown_json([row]) == [{"rate": "25.5", "net": 10000, "tax": 2550}]


@given(lines=st.lists(PRICED, max_size=6))
def test_lines_and_breakdown_read_back_from_their_json(lines: list[PricedLine]) -> None:
    result = draft(lines)

    assert lines_from_json(lines_json(result.lines)) == result.lines
    assert breakdown_from_json(breakdown_json(result.tax_breakdown)) == result.tax_breakdown


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quantity": "1"}, "'quantity' must be an integer"),
        ({"net": True}, "'net' must be an integer"),
        ({"tax_rate": 7}, "'tax_rate' must be a string"),
        ({"tax_rate": "7.001"}, "not a tax rate"),
        ({"tax": 164}, "do not add up"),
        ({"gross": 2491}, "do not add up"),
    ],
)
def test_a_stored_line_that_is_malformed_is_refused(
    change: dict[str, object], message: str
) -> None:
    stored = lines_json(draft(MIXED).lines)[1] | change

    with pytest.raises(ValueError, match=message):
        lines_from_json([stored])


def test_a_stored_breakdown_row_missing_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="'tax' must be an integer"):
        breakdown_from_json([{"rate": "19", "net": 100}])


@pytest.mark.parametrize(
    ("kind", "year", "seq", "number"),
    [
        (DocumentKind.INVOICE, 2026, 1, "INV-2026-000001"),
        (DocumentKind.CREDIT_NOTE, 2026, 42, "CN-2026-000042"),
        (DocumentKind.INVOICE, 2027, 999999, "INV-2027-999999"),
        (DocumentKind.INVOICE, 2027, 1000000, "INV-2027-1000000"),
    ],
)
def test_document_numbers_are_series_year_and_six_digit_sequence(
    kind: DocumentKind, year: int, seq: int, number: str
) -> None:
    assert document_number(kind, year, seq) == number


def test_a_document_sequence_starts_at_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        document_number(DocumentKind.INVOICE, 2026, 0)
