"""The writes of a new return or claim, each in ONE transaction on the locked order: checked
against the order (api/return_checks.py), written with its audit row, or refused with an audit
row of its own. The order's lock serializes requests for the same order, so two returns can
never together exceed what was shipped, and a concurrent retry with the same Idempotency-Key
finds the first one's row."""

from datetime import UTC, datetime
from typing import NoReturn
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from api import return_checks as checks
from api.errors import Conflict, OrderNotFound, invalid
from api.return_mapping import body_hash, to_claim_record, to_return_audit_row, to_return_record
from api.return_schemas import ClaimCreate, ReturnCreate
from db import return_books, returns
from db.audit import AuditRepository
from db.models import AuditRecord, OrderRecord, ReturnRecord
from db.refunds import RefundRefused
from db.return_books import Resolved
from db.stock import StockRepository
from security.principal import Principal
from settings import Settings
from workflows.return_contracts import ReturnAuditAction, ReturnKind

A = ReturnAuditAction
Body = ReturnCreate | ClaimCreate


def request_id(subject_id: str, action: str, key: str | None) -> str:
    """The update id and audit key: the caller's Idempotency-Key makes a retry the same one."""
    return f"{subject_id}:{action}:{key or uuid4()}"


class ReturnRequests:
    """New returns and claims on the request's session; each method ends its transaction."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self._session, self._settings = session, settings

    async def stored(
        self, order_id: str, kind: ReturnKind, body: Body, caller: Principal, key: str | None
    ) -> ReturnRecord | None:
        """The return or claim this key already wrote for the order (a replay), if any;
        Conflict when it was written for another body."""
        if key is None:
            return None
        stored = await returns.by_idempotency_key(self._session, order_id, kind, key)
        if stored is None:
            return None
        if not caller.sees(stored.channel):
            raise OrderNotFound(order_id)
        if stored.request_hash != body_hash(body):
            raise Conflict(f"this Idempotency-Key was already used for a different {kind.value}")
        return stored

    async def write_return(
        self, order_id: str, body: ReturnCreate, caller: Principal, key: str | None
    ) -> ReturnRecord:
        """A new `requested` return, committed; or the one a concurrent retry wrote first."""
        order = await self._locked_order(order_id, caller)
        if (
            earlier := await self.stored(order_id, ReturnKind.RETURN, body, caller, key)
        ) is not None:
            await self._session.rollback()
            return earlier
        checks.refuse_unknown_lines(body.lines, {line.sku for line in order.lines})
        await self._refuse_bad_exchange(order, body)
        asked, audit_id = body.model_dump(mode="json"), request_id(order_id, "request", key)
        try:
            checks.refuse_outside_window(order, datetime.now(UTC), self._settings.return_window)
            await self._refuse_too_many(order, body)
        except Conflict as refused:
            await self._refuse(order_id, A.RETURN_REQUEST, audit_id, caller, asked, refused)
        ret = to_return_record(order, body, caller.actor, key)
        await returns.create(self._session, ret)
        await self._commit(ret, A.RETURN_REQUEST, audit_id, asked, caller)
        return ret

    async def write_claim(
        self, order_id: str, body: ClaimCreate, caller: Principal, key: str | None
    ) -> tuple[ReturnRecord, Resolved | None]:
        """A new claim with its resolution, committed (and what must start now); or the claim a
        concurrent retry wrote first (nothing to start: its request started it)."""
        order = await self._locked_order(order_id, caller)
        if (
            earlier := await self.stored(order_id, ReturnKind.CLAIM, body, caller, key)
        ) is not None:
            await self._session.rollback()
            return earlier, None
        checks.refuse_unknown_lines(body.lines, {line.sku for line in order.lines})
        asked, audit_id = body.model_dump(mode="json"), request_id(order_id, "claim", key)
        try:
            checks.refuse_not_shipped(order)
            await self._refuse_too_many(order, body)
        except Conflict as refused:
            await self._refuse(order_id, A.CLAIM, audit_id, caller, asked, refused)
        claim = to_claim_record(order, body, caller.actor, key)
        await returns.create(self._session, claim)
        try:
            resolved = await return_books.resolve(self._session, claim.id, self._settings)
        except RefundRefused as err:
            await self._refuse(order_id, A.CLAIM, audit_id, caller, asked, Conflict(str(err)))
        if body.resolution != "reship" and not resolved.refund_ids:  # the refund was refused
            why = Conflict(resolved.note or "nothing can be refunded for this claim")
            await self._refuse(order_id, A.CLAIM, audit_id, caller, asked, why)
        await self._commit(claim, A.CLAIM, audit_id, asked, caller)
        return claim, resolved

    async def audit_alone(self, row: AuditRecord) -> None:
        """Write one audit row in a transaction of its own (ending the request's: a refusal
        undoes whatever the request wrote before it)."""
        await self._session.rollback()
        async with self._session.begin():
            await AuditRepository(self._session).add(row)

    async def _locked_order(self, order_id: str, caller: Principal) -> OrderRecord:
        order = await returns.lock_order(self._session, order_id)
        if order is None or not caller.sees(order.channel):
            await self._session.rollback()
            raise OrderNotFound(order_id)
        return order

    async def _refuse_too_many(self, order: OrderRecord, body: Body) -> None:
        held = await returns.returned_units(self._session, order.id)
        checks.refuse_too_many(order, body.lines, held)

    async def _refuse_bad_exchange(self, order: OrderRecord, body: ReturnCreate) -> None:
        """422 for exchange fields that do not fit, or exchange SKUs nobody can price."""
        exchange = body.exchange_lines or []
        errors = checks.exchange_errors(exchange, body.resolution, body.advance)
        if not errors and exchange:
            skus = [line.sku for line in exchange]
            unknown = set(await StockRepository(self._session).unknown_skus(skus))
            priced = {line.sku for line in order.lines}
            priced |= {line.sku for line in exchange if line.unit_price is not None}
            for sku in set(skus) - priced - unknown:
                if await return_books.current_price(self._session, sku) is not None:
                    priced.add(sku)
            errors = checks.unpriced_errors(exchange, unknown, priced)
        if errors:
            await self._session.rollback()
            raise invalid(errors)

    async def _refuse(
        self,
        order_id: str,
        action: ReturnAuditAction,
        audit_id: str,
        caller: Principal,
        asked: dict[str, object],
        refused: Conflict,
    ) -> NoReturn:
        """Undo what this request wrote, audit the refusal, raise it (a 409)."""
        await self.audit_alone(
            to_return_audit_row(order_id, audit_id, action, caller.actor, asked, refused.reason)
        )
        raise refused

    async def _commit(
        self,
        ret: ReturnRecord,
        action: ReturnAuditAction,
        audit_id: str,
        asked: dict[str, object],
        caller: Principal,
    ) -> None:
        named = {"return_id": ret.id, **asked}
        row = to_return_audit_row(ret.order_id, audit_id, action, caller.actor, named)
        await AuditRepository(self._session).add(row)
        await self._session.commit()
