"""HTTP models of returns and claims. Their words are spelled as workflows/return_contracts.py's
enums spell them (tests/unit/test_vocabulary.py pins them equal): HTTP models never import
payloads. Money is integer minor units."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from api.money_schemas import RefundPublic
from api.schemas import (
    MAX_LINES,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    Note,
    ReturnStatusName,
    Sku,
    Strict,
    UtcDatetime,
)

ReturnReasonName = Literal["damaged", "wrong_item", "not_as_described", "changed_mind", "other"]
ReturnResolutionName = Literal["refund", "store_credit", "exchange"]
ClaimResolutionName = Literal["refund", "store_credit", "reship"]
ResolutionName = Literal["refund", "store_credit", "exchange", "reship"]
ClaimTypeName = Literal["missing", "damaged_in_transit", "wrong_item"]
ConditionName = Literal["resellable", "damaged"]

Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
Lines = Field(min_length=1, max_length=MAX_LINES)


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


Reason = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_not_blank)]


class ReturnLineCreate(Strict):
    sku: Sku
    quantity: Quantity
    reason: ReturnReasonName
    note: Note | None = None


class ExchangeLine(Strict):
    """A unit the customer wants instead. `unit_price` only for a SKU that never sold (the
    OMS keeps no catalog): others are priced by the order, or by the SKU's last sale."""

    sku: Sku
    quantity: Quantity
    unit_price: Annotated[int, Field(ge=0, le=MAX_UNIT_PRICE)] | None = None


class ReturnCreate(Strict):
    """A return as the customer asks for it (the contract of `POST /v1/orders/{id}/returns`)."""

    lines: Annotated[list[ReturnLineCreate], Lines]
    resolution: ReturnResolutionName
    exchange_lines: Annotated[list[ExchangeLine], Lines] | None = None
    advance: bool = False  # an exchange whose replacement ships before the parcel arrives


class ReturnDecisionCreate(Strict):
    """Approve or cancel: the reason is optional."""

    reason: Reason | None = None


class ReturnDeclineCreate(Strict):
    """Decline: the customer is told why."""

    reason: Reason


class ReceiptLine(Strict):
    sku: Sku
    quantity: Quantity
    condition: ConditionName


class ReceiptCreate(Strict):
    """One scan at the warehouse; partial receipts add up."""

    lines: Annotated[list[ReceiptLine], Lines]


class ReturnLinePublic(BaseModel):
    sku: str
    quantity: int
    reason: ReturnReasonName
    note: str | None
    received: int  # resellable + damaged
    resellable: int
    damaged: int
    condition: ConditionName | None  # null until something arrived; damaged if any was


class LabelPublic(BaseModel):
    carrier: str
    tracking_number: str


class ReturnHistoryPublic(BaseModel):
    status: ReturnStatusName
    at: UtcDatetime
    reason: str | None
    actor: str


class ExchangeLinePublic(BaseModel):
    sku: str
    quantity: int
    unit_price: int | None


class ReturnPublic(BaseModel):
    """A return as the read model shows it; `refund` is the money given back, if any."""

    id: str
    order_id: str
    status: ReturnStatusName
    resolution: ReturnResolutionName
    lines: list[ReturnLinePublic]
    exchange_lines: list[ExchangeLinePublic]
    advance: bool
    exchange_order_id: str | None
    label: LabelPublic | None
    receive_by: UtcDatetime | None
    refund: RefundPublic | None
    history: list[ReturnHistoryPublic]
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ReturnsPublic(BaseModel):
    """Returns, newest first; pass `next_cursor` back as `cursor` for the next page."""

    items: list[ReturnPublic]
    next_cursor: str | None = None


class ClaimLine(Strict):
    sku: Sku
    quantity: Quantity


class ClaimCreate(Strict):
    """Lost or broken in transit, or the wrong item: resolved at once, nothing comes back."""

    type: ClaimTypeName
    lines: Annotated[list[ClaimLine], Lines]
    resolution: ClaimResolutionName
    note: Note | None = None


class ClaimPublic(BaseModel):
    id: str
    order_id: str
    type: ClaimTypeName
    status: ReturnStatusName
    resolution: ClaimResolutionName
    lines: list[ClaimLine]
    refund: RefundPublic | None
    reship_order_id: str | None
    note: str | None
    created_at: UtcDatetime


class ClaimsPublic(BaseModel):
    items: list[ClaimPublic]
