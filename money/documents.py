"""Invoice and credit-note contents, built from gross-priced lines; pure (no I/O, no clock).

Tax is computed per rate over the rate's gross sum, not per line, so an order's tax is what
the customer's total implies (EN 16931's VAT breakdown), and line nets are that rate's net
allocated over the lines by their gross. Every amount is integer minor units.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from money.tax import allocate, parse_rate, rate_text, split_gross

GOODWILL_SKU = "GOODWILL"


@dataclass(frozen=True, kw_only=True)
class PricedLine:
    """A line as the order has it: gross unit price and the rate it was sold at."""

    sku: str
    quantity: int
    unit_price: int  # gross per unit
    tax_rate: Decimal


@dataclass(frozen=True, kw_only=True)
class DocumentLine:
    """A line as a document shows it: the gross the customer paid, split into net and tax."""

    sku: str
    quantity: int
    unit_price: int  # gross per unit, as the customer paid
    net: int
    tax_rate: Decimal
    tax: int
    gross: int  # quantity * unit_price


@dataclass(frozen=True, kw_only=True)
class TaxLine:
    """One row of the tax breakdown: everything sold at one rate."""

    rate: Decimal
    net: int
    tax: int

    @property
    def gross(self) -> int:
        return self.net + self.tax


@dataclass(frozen=True, kw_only=True)
class Draft:
    """A document's contents before it gets a number."""

    lines: list[DocumentLine]
    tax_breakdown: list[TaxLine]  # sorted by rate descending
    net_total: int
    tax_total: int
    total: int


@dataclass(frozen=True, kw_only=True)
class Party:
    """A seller or buyer as a document names them."""

    name: str
    street: str
    postal_code: str
    city: str
    country: str  # ISO 3166 alpha-2
    vat_id: str | None = None
    email: str | None = None


class DocumentKind(StrEnum):
    """Which series a document is numbered in: an invoice, or a credit note correcting one."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


SERIES = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}


@dataclass(frozen=True, kw_only=True)
class Document:
    """An issued invoice or credit note: everything its PDF and its XML are built from."""

    number: str  # INV-2026-000001 / CN-2026-000001
    kind: DocumentKind
    order_id: str
    refers_to: str | None  # a credit note: the invoice number it corrects
    issued_at: datetime  # UTC-aware
    currency: str
    seller: Party
    buyer: Party
    lines: list[DocumentLine]
    tax_breakdown: list[TaxLine]
    net_total: int
    tax_total: int
    total: int
    paid_card: int
    paid_store_credit: int


def document_number(kind: DocumentKind, year: int, seq: int) -> str:
    """ "INV-2026-000001": series, year, sequence (at least 6 digits; a millionth keeps going)."""
    if seq < 1:
        raise ValueError(f"a document sequence starts at 1, got {seq}")
    return f"{SERIES[kind]}-{year:04d}-{seq:06d}"


def draft(lines: Sequence[PricedLine]) -> Draft:
    """A document's lines, tax breakdown and totals; lines of quantity 0 are dropped."""
    kept = [line for line in lines if line.quantity != 0]
    for line in kept:
        _check_priced(line)
    by_rate: dict[Decimal, list[int]] = {}
    for index, line in enumerate(kept):
        by_rate.setdefault(line.tax_rate, []).append(index)
    done: dict[int, DocumentLine] = {}
    breakdown = []
    for rate, indexes in by_rate.items():
        row, split = _split_rate(rate, [kept[i] for i in indexes])
        breakdown.append(row)
        done |= dict(zip(indexes, split, strict=True))
    breakdown.sort(key=lambda row: row.rate, reverse=True)
    return _with_totals([done[i] for i in range(len(kept))], breakdown)


def goodwill_draft(amount: int, breakdown: Sequence[TaxLine]) -> Draft:
    """A credit note for a sum rather than units, spread over the invoice's rates by their gross.

    One GOODWILL line per rate that gets a share; a rate whose share rounds to nothing gets no
    line (a zero line would say nothing). So the refund's tax is in the invoice's proportions.
    """
    available = sum(row.gross for row in breakdown)
    if not 0 < amount <= available:
        raise ValueError(f"a goodwill amount is 1 to {available}, got {amount}")
    shares = allocate(amount, [row.gross for row in breakdown])
    return draft(
        [
            PricedLine(sku=GOODWILL_SKU, quantity=1, unit_price=share, tax_rate=row.rate)
            for row, share in zip(breakdown, shares, strict=True)
            if share > 0
        ]
    )


def lines_json(lines: Sequence[DocumentLine]) -> list[dict[str, object]]:
    """Lines as the database stores them and the API shows them: ints stay ints, rates text."""
    return [
        {
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "net": line.net,
            "tax_rate": rate_text(line.tax_rate),
            "tax": line.tax,
            "gross": line.gross,
        }
        for line in lines
    ]


def breakdown_json(breakdown: Sequence[TaxLine]) -> list[dict[str, object]]:
    """The tax breakdown as the database stores it and the API shows it."""
    return [{"rate": rate_text(row.rate), "net": row.net, "tax": row.tax} for row in breakdown]


def lines_from_json(data: Sequence[Mapping[str, object]]) -> list[DocumentLine]:
    """The inverse of `lines_json`; ValueError on a missing key, a wrong type or bad sums."""
    return [_line_from_json(item) for item in data]


def breakdown_from_json(data: Sequence[Mapping[str, object]]) -> list[TaxLine]:
    """The inverse of `breakdown_json`; ValueError on a missing key or a wrong type."""
    return [
        TaxLine(rate=parse_rate(_text(item, "rate")), net=_int(item, "net"), tax=_int(item, "tax"))
        for item in data
    ]


def _check_priced(line: PricedLine) -> None:
    if line.quantity < 0 or line.unit_price < 0:
        raise ValueError(f"quantity and unit price must not be negative: {line}")
    rate_text(line.tax_rate)  # refuses a rate no document could spell


def _split_rate(rate: Decimal, lines: list[PricedLine]) -> tuple[TaxLine, list[DocumentLine]]:
    """One rate's breakdown row, and its lines with the rate's net allocated by line gross."""
    grosses = [line.quantity * line.unit_price for line in lines]
    net, tax = split_gross(sum(grosses), rate)
    nets = allocate(net, grosses)
    split = [
        DocumentLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            net=line_net,
            tax_rate=line.tax_rate,
            tax=gross - line_net,
            gross=gross,
        )
        for line, gross, line_net in zip(lines, grosses, nets, strict=True)
    ]
    return TaxLine(rate=rate, net=net, tax=tax), split


def _with_totals(lines: list[DocumentLine], breakdown: list[TaxLine]) -> Draft:
    return Draft(
        lines=lines,
        tax_breakdown=breakdown,
        net_total=sum(row.net for row in breakdown),
        tax_total=sum(row.tax for row in breakdown),
        total=sum(row.gross for row in breakdown),
    )


def _line_from_json(item: Mapping[str, object]) -> DocumentLine:
    line = DocumentLine(
        sku=_text(item, "sku"),
        quantity=_int(item, "quantity"),
        unit_price=_int(item, "unit_price"),
        net=_int(item, "net"),
        tax_rate=parse_rate(_text(item, "tax_rate")),
        tax=_int(item, "tax"),
        gross=_int(item, "gross"),
    )
    if line.gross != line.quantity * line.unit_price or line.net + line.tax != line.gross:
        raise ValueError(f"a stored line's amounts do not add up: {dict(item)}")
    return line


def _int(item: Mapping[str, object], key: str) -> int:
    value = item.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key!r} must be an integer, got {value!r}")
    return value


def _text(item: Mapping[str, object], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string, got {value!r}")
    return value
