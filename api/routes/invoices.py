"""Invoices and credit notes (JSON, and the Factur-X PDF); the tax rates they are issued at."""

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import grants
from api.deps import SessionDep
from api.errors import NotFound, OrderNotFound, answers
from api.money_mapping import to_invoice_public, to_tax_rate_public
from api.money_schemas import (
    InvoicePublic,
    InvoicesPublic,
    TaxRatePublic,
    TaxRateSet,
    TaxRatesPublic,
)
from db import documents
from db.models import DocumentRecord, TaxRateRecord
from db.orders import OrderRepository
from money.facturx import invoice_pdf
from money.tax import parse_rate, rate_text
from security.principal import Principal
from security.roles import Scope

router = APIRouter(tags=["invoices"])
Number = Annotated[str, Path(min_length=1, max_length=32)]
Country = Annotated[str, Path(pattern=r"^[A-Z]{2}$")]


@router.get("/v1/invoices/{number}", responses=answers({404: "No such document"}))
async def get_invoice(
    number: Number, session: SessionDep, caller: Annotated[Principal, grants(Scope.INVOICES_READ)]
) -> InvoicePublic:
    """An invoice (`INV-…`) or credit note (`CN-…`), as issued; never changed."""
    return to_invoice_public(await _document(session, number, caller))


@router.get(
    "/v1/invoices/{number}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF/A-3 with the "
                     "EN 16931 (Factur-X) XML embedded"}, **answers({404: "No such document"})},
)  # fmt: skip
async def get_invoice_pdf(
    number: Number, session: SessionDep, caller: Annotated[Principal, grants(Scope.INVOICES_READ)]
) -> Response:
    """The document as a PDF a person reads, with its EN 16931 XML (`factur-x.xml`) inside."""
    document = await _document(session, number, caller)
    # ~80 ms of drawing and embedding: off the event loop, so other requests go on meanwhile.
    pdf = await asyncio.to_thread(invoice_pdf, documents.to_document(document))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{document.number}.pdf"'},
    )


@router.get("/v1/orders/{order_id}/invoices", responses=answers({404: "No such order"}))
async def list_order_invoices(
    order_id: str, session: SessionDep, caller: Annotated[Principal, grants(Scope.INVOICES_READ)]
) -> InvoicesPublic:
    """The order's invoice and credit notes, in issue order."""
    head = await OrderRepository(session).head(order_id)
    if head is None or not caller.sees(head.channel):
        raise OrderNotFound(order_id)
    rows = await documents.of_order(session, order_id)
    return InvoicesPublic(items=[to_invoice_public(row) for row in rows])


@router.get("/v1/tax-rates")
async def list_tax_rates(
    session: SessionDep, caller: Annotated[Principal, grants(Scope.INVOICES_READ)]
) -> TaxRatesPublic:
    """The standard VAT rate per shipping country: a line without its own `tax_rate` is
    invoiced at its order's country's rate (0 for a country not listed: an export)."""
    del caller
    rows = (await session.scalars(select(TaxRateRecord).order_by(TaxRateRecord.country))).all()
    return TaxRatesPublic(items=[to_tax_rate_public(row) for row in rows])


@router.put("/v1/tax-rates/{country}")
async def set_tax_rate(
    country: Country,
    body: TaxRateSet,
    session: SessionDep,
    caller: Annotated[Principal, grants(Scope.TAX_RATES_MANAGE)],
) -> TaxRatePublic:
    """Set a country's standard rate for documents issued from now on (issued ones keep theirs)."""
    del caller
    rate, now = parse_rate(body.rate), datetime.now(UTC)
    await session.execute(
        insert(TaxRateRecord)
        .values(country=country, rate=rate, updated_at=now)
        .on_conflict_do_update(index_elements=["country"], set_={"rate": rate, "updated_at": now})
    )
    await session.commit()
    return TaxRatePublic(country=country, rate=rate_text(rate), updated_at=now)


async def _document(session: AsyncSession, number: str, caller: Principal) -> DocumentRecord:
    document = await documents.get(session, number)
    if document is not None and caller.channel is not None:
        head = await OrderRepository(session).head(document.order_id)
        document = document if head is not None and caller.sees(head.channel) else None
    if document is None:
        raise NotFound(f"document {number} not found")
    return document
