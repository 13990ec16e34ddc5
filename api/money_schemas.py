"""HTTP models of the money side: refunds, store credit, invoices and credit notes, tax rates.
Money is integer minor units; rates are decimal strings ("19", "25.5")."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas import (
    MAX_LINES,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    Currency,
    DocumentKindName,
    RefundMethodName,
    RefundStatusName,
    Sku,
    Strict,
    TaxRate,
    Text,
    UtcDatetime,
)

Amount = Annotated[int, Field(ge=1, le=MAX_UNIT_PRICE * MAX_LINES)]


class RefundLine(Strict):
    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


class RefundCreate(Strict):
    """Give money back: `lines` (those units at their paid price) or `amount` (a sum)."""

    amount: Amount | None = None
    lines: Annotated[list[RefundLine], Field(min_length=1, max_length=MAX_LINES)] | None = None
    reason: Text
    method: RefundMethodName

    @model_validator(mode="after")
    def _lines_or_amount(self) -> "RefundCreate":
        if (self.amount is None) == (self.lines is None):
            raise ValueError("give either `lines` (units to refund) or `amount` (a sum), not both")
        return self


class RefundPublic(BaseModel):
    id: str
    order_id: str
    status: RefundStatusName
    amount: int
    currency: str
    method: RefundMethodName
    reason: str
    lines: list[RefundLine]
    failure_reason: str | None
    credit_note: str | None  # its number, once it succeeded
    created_at: UtcDatetime
    completed_at: UtcDatetime | None


class RefundsPublic(BaseModel):
    items: list[RefundPublic]


CreditKindName = Literal["issued", "held", "redeemed", "released"]


class StoreCreditCreate(Strict):
    """Goodwill credit for a customer."""

    amount: Amount
    currency: Currency
    reason: Text


class StoreCreditEntryPublic(BaseModel):
    """One change of a customer's credit; `delta` is what it did to the balance."""

    id: int
    at: UtcDatetime
    kind: CreditKindName
    currency: str
    amount: int
    delta: int
    order_id: str | None
    refund_id: str | None
    reason: str
    actor: str


class BalancePublic(BaseModel):
    currency: str
    balance: int


class StoreCreditPublic(BaseModel):
    """A customer's balances per currency and their newest entries (up to 200)."""

    customer_id: str
    balances: list[BalancePublic]
    entries: list[StoreCreditEntryPublic]


class PartyPublic(BaseModel):
    name: str
    street: str
    postal_code: str
    city: str
    country: str
    vat_id: str | None
    email: str | None


class DocumentLinePublic(BaseModel):
    sku: str
    quantity: int
    unit_price: int  # gross
    net: int
    tax_rate: str
    tax: int
    gross: int


class TaxBreakdownPublic(BaseModel):
    rate: str
    net: int
    tax: int


class PaidPublic(BaseModel):
    card: int
    store_credit: int


class InvoicePublic(BaseModel):
    """An invoice or credit note as issued: never changed. The PDF: `GET …/{number}/pdf`."""

    number: str
    kind: DocumentKindName
    order_id: str
    refers_to: str | None  # a credit note: the invoice it corrects
    issued_at: UtcDatetime
    currency: str
    seller: PartyPublic
    buyer: PartyPublic
    lines: list[DocumentLinePublic]
    tax_breakdown: list[TaxBreakdownPublic]
    net_total: int
    tax_total: int
    total: int
    paid: PaidPublic


class InvoicesPublic(BaseModel):
    items: list[InvoicePublic]


class TaxRateSet(Strict):
    rate: TaxRate


class TaxRatePublic(BaseModel):
    country: str
    rate: str
    updated_at: UtcDatetime


class TaxRatesPublic(BaseModel):
    items: list[TaxRatePublic]
