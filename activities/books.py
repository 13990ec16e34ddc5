"""The money activities on our own database: store credit held by an order, the invoice at
capture, and a refund's outcome. Each is one transaction of db/books.py, keyed by its fact, so
the at-least-once retries of an activity write it once."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from db import books, refunds
from db.models import OrderRecord, RefundRecord
from db.session import SessionFactory
from db.store_credit import InsufficientCredit
from settings import Settings
from workflows.contracts import ActivityName, OrderRef
from workflows.money_contracts import (
    CompleteRefundResult,
    FailRefundInput,
    HoldStoreCreditInput,
    InvoiceResult,
    MoneyError,
    RefundRef,
)


class BookActivities:
    """Store credit, invoices and refund outcomes, each in one PostgreSQL transaction."""

    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        books.chart(settings)  # a bad OMS_CHART_OF_ACCOUNTS stops the worker at its start
        self._sessions, self._settings = sessions, settings

    @activity.defn(name=ActivityName.HOLD_STORE_CREDIT)
    async def hold_store_credit(self, input: HoldStoreCreditInput) -> None:
        """Hold the credit the order pays with; spent in between: `StoreCreditInsufficient`."""
        try:
            async with self._sessions.begin() as session:
                order = await _order(session, input.order_id)
                await books.hold_credit(session, order, input.amount, self._settings)
        except InsufficientCredit as short:
            raise ApplicationError(
                str(short),
                type=MoneyError.STORE_CREDIT_INSUFFICIENT,
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            ) from None

    @activity.defn(name=ActivityName.RELEASE_STORE_CREDIT)
    async def release_store_credit(self, input: OrderRef) -> None:
        """Compensation: give back whatever credit the order still holds."""
        async with self._sessions.begin() as session:
            order = await _order(session, input.order_id)
            await books.release_credit(session, order, self._settings)

    @activity.defn(name=ActivityName.ISSUE_INVOICE)
    async def issue_invoice(self, input: OrderRef) -> InvoiceResult:
        """At capture: redeem the held credit, issue the invoice and book both."""
        async with self._sessions.begin() as session:
            order = await _order(session, input.order_id, lines=True)
            invoice = await books.invoice_order(session, order, self._settings)
            return InvoiceResult(number=invoice.number)

    @activity.defn(name=ActivityName.COMPLETE_REFUND)
    async def complete_refund(self, input: RefundRef) -> CompleteRefundResult:
        """The money went back: the credit note, the bookings, the refund succeeded."""
        async with self._sessions.begin() as session:
            refund = await _refund(session, input.refund_id)
            order = await _order(session, refund.order_id, lines=True)
            number = await books.complete_refund(session, refund, order, self._settings)
            return CompleteRefundResult(credit_note=number)

    @activity.defn(name=ActivityName.FAIL_REFUND)
    async def fail_refund(self, input: FailRefundInput) -> None:
        """The gateway refused: the refund ends failed, its claim given back."""
        async with self._sessions.begin() as session:
            await books.fail_refund(session, await _refund(session, input.refund_id), input.reason)


async def _order(session: AsyncSession, order_id: str, lines: bool = False) -> OrderRecord:
    query = select(OrderRecord).where(OrderRecord.id == order_id)
    if lines:
        query = query.options(selectinload(OrderRecord.lines))
    return (await session.scalars(query)).one()


async def _refund(session: AsyncSession, refund_id: str) -> RefundRecord:
    refund = await refunds.get(session, refund_id, lock=True)
    if refund is None:
        raise RuntimeError(f"no refund {refund_id}")  # retried: the claim commits first
    return refund
