"""Returns and claims as the API and the console both ask for them.

A return is written `requested` (checked against the order, locked, in one transaction), then
its workflow `return-{id}` starts; every later step is an Update of that workflow (approve,
decline, cancel, receive), which accepts or refuses it synchronously. A claim is resolved at
once, in the transaction that writes it. Each action, accepted or refused, is written to the
order's audit trail by (request_id, outcome), so a retried request never writes twice; the
Idempotency-Key makes a retry the same request (the same row, or the same update id).
"""

import logging
from collections.abc import Sequence
from functools import partial

from fastapi import BackgroundTasks
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api import return_checks as checks
from api.errors import Conflict, NotFound, OrderNotFound, Refused, SupportUnavailable
from api.return_adapters import (
    TemporalReturnUpdates,
    claim_views,
    return_views,
    start_resolution,
    wake_restocked,
)
from api.return_mapping import (
    to_decision,
    to_receive_request,
    to_return_audit_row,
)
from api.return_requests import ReturnRequests, request_id
from api.return_schemas import ClaimCreate, ClaimPublic, ReceiptLine, ReturnCreate, ReturnPublic
from api.support_service import WorkflowNotRunning
from db import returns
from db.audit import AuditRepository
from db.mapping import to_return_input
from db.models import OrderRecord, ReturnRecord
from db.orders import OrderRepository
from db.returns import PagePosition
from security.principal import Principal
from settings import Settings
from temporal_client import start_return
from workflows.return_contracts import (
    RETURN_TERMINAL,
    ReceiveRequest,
    ReturnAction,
    ReturnAuditAction,
    ReturnDecision,
    ReturnKind,
    ReturnStatus,
)

log = logging.getLogger(__name__)
A = ReturnAuditAction
AUDITED = {
    ReturnAction.APPROVE: A.RETURN_APPROVE,
    ReturnAction.DECLINE: A.RETURN_DECLINE,
    ReturnAction.CANCEL: A.RETURN_CANCEL,
    ReturnAction.RECEIVE: A.RETURN_RECEIVE,
}


class ReturnNotFound(NotFound):
    """No return (or claim) has this id, or not in a channel the caller sees."""

    def __init__(self, return_id: str, kind: ReturnKind = ReturnKind.RETURN) -> None:
        super().__init__(f"{kind.value} {return_id} not found")


class ReturnNotStarted(SupportUnavailable):
    """The return is stored but its workflow did not start: the reconciler starts it within a
    minute, and a retry with the same key starts it now."""

    def __init__(self, return_id: str) -> None:
        super().__init__(
            f"return {return_id} is stored but its workflow could not start: retry with the "
            "same Idempotency-Key (it is started within a minute in any case)"
        )
        self.return_id = return_id


class ReturnService:
    """The return and claim actions of one request, on its session."""

    def __init__(self, session: AsyncSession, temporal: Client, settings: Settings) -> None:
        self._session, self._temporal, self._settings = session, temporal, settings
        self._updates = TemporalReturnUpdates(temporal)
        self._writes = ReturnRequests(session, settings)

    # Reads: a return of a channel the caller does not see is, to them, no return at all.

    async def get(self, return_id: str, caller: Principal) -> ReturnRecord:
        return await self._visible(return_id, caller, ReturnKind.RETURN)

    async def get_claim(self, claim_id: str, caller: Principal) -> ReturnRecord:
        return await self._visible(claim_id, caller, ReturnKind.CLAIM)

    async def of_order(
        self, order_id: str, caller: Principal, kind: ReturnKind = ReturnKind.RETURN
    ) -> Sequence[ReturnRecord]:
        """The order's returns (or claims), oldest first; OrderNotFound unless visible."""
        head = await OrderRepository(self._session).head(order_id)
        if head is None or not caller.sees(head.channel):
            raise OrderNotFound(order_id)
        return await returns.of_order(self._session, order_id, kind)

    async def page(
        self,
        caller: Principal,
        status: ReturnStatus | None,
        limit: int,
        after: PagePosition | None,
        tracking_number: str | None = None,
    ) -> Sequence[ReturnRecord]:
        """Newest first; a storefront's page holds only its channel's returns. By tracking
        number: the one return with that label, if any."""
        if tracking_number is None:
            value = None if status is None else status.value
            channel = caller.channel
            return await returns.page(self._session, value, limit, after, channel=channel)
        found = await returns.by_tracking_number(self._session, tracking_number)
        if found is None or not caller.sees(found.channel):
            return []
        return [found] if status is None or found.status == status else []

    async def by_tracking_number(self, tracking_number: str, caller: Principal) -> ReturnRecord:
        """The return whose label the warehouse scanned."""
        found = await returns.by_tracking_number(self._session, tracking_number)
        if found is None or not caller.sees(found.channel):
            raise ReturnNotFound(tracking_number)
        return found

    async def views(self, records: Sequence[ReturnRecord]) -> list[ReturnPublic]:
        """Each return as the API shows it, with the money it gave back."""
        return await return_views(self._session, records)

    async def claim_views(self, records: Sequence[ReturnRecord]) -> list[ClaimPublic]:
        """Each claim as the API shows it, with its refund."""
        return await claim_views(self._session, records)

    # Requesting a return, making a claim

    async def request(
        self, order_id: str, body: ReturnCreate, caller: Principal, key: str | None
    ) -> ReturnRecord:
        """The return `key` already names (a replay), or a new `requested` one, started.
        Raises OrderNotFound, the 422s of lines that do not fit, Conflict, ReturnNotStarted."""
        ret = await self._writes.stored(order_id, ReturnKind.RETURN, body, caller, key)
        if ret is None:
            ret = await self._writes.write_return(order_id, body, caller, key)
        if ret.status == ReturnStatus.REQUESTED and ret.version == 0:
            await self._start(ret)  # a replay may find a workflow that never started
        return ret

    async def claim(
        self, order_id: str, body: ClaimCreate, caller: Principal, key: str | None
    ) -> ReturnRecord:
        """A claim (or its replay by `key`), resolved in the transaction that writes it: its
        refund claimed (store credit completed at once) or its reship order placed; then the
        card refund's and the order's workflows start."""
        claim = await self._writes.stored(order_id, ReturnKind.CLAIM, body, caller, key)
        if claim is not None:
            return claim
        claim, resolved = await self._writes.write_claim(order_id, body, caller, key)
        if resolved is not None:
            await start_resolution(
                self._temporal, self._settings, resolved.to_start, resolved.order
            )
        return claim

    async def _start(self, ret: ReturnRecord) -> None:
        order = await self._session.get(OrderRecord, ret.order_id)  # loaded already, mostly
        assert order is not None  # a return's order is never deleted (foreign key)
        started = to_return_input(ret, order.currency, self._settings)
        try:
            await start_return(self._temporal, started, self._settings.task_queue)
        except (RPCError, RuntimeError) as err:
            log.warning("return %s stored but not started: %s", ret.id, err)
            raise ReturnNotStarted(ret.id) from err

    # The workflow's Updates

    async def approve(
        self, return_id: str, reason: str | None, caller: Principal, key: str | None
    ) -> ReturnRecord:
        """Support approves a `requested` return: a label is issued."""
        return await self._decide(ReturnAction.APPROVE, return_id, reason, caller, key)

    async def decline(
        self, return_id: str, reason: str | None, caller: Principal, key: str | None
    ) -> ReturnRecord:
        """Support declines a `requested` return, with the reason the customer is told (the
        workflow refuses a decline without one)."""
        return await self._decide(ReturnAction.DECLINE, return_id, reason, caller, key)

    async def cancel(
        self, return_id: str, reason: str | None, caller: Principal, key: str | None
    ) -> ReturnRecord:
        """The customer or support cancels before anything arrived; the label is voided."""
        return await self._decide(ReturnAction.CANCEL, return_id, reason, caller, key)

    async def receive(
        self,
        return_id: str,
        lines: Sequence[ReceiptLine],
        caller: Principal,
        key: str | None,
        background: BackgroundTasks | None = None,
    ) -> ReturnRecord:
        """The warehouse scanned (part of) the parcel; resellable SKUs wake their backorders
        (after the answer when `background` is given, else before it)."""
        ret = await self.get(return_id, caller)
        checks.refuse_unknown_receipt(lines, {line.sku for line in ret.lines})
        request_key = request_id(return_id, ReturnAction.RECEIVE, key)
        request = to_receive_request(request_key, caller.actor, lines)
        done = await self._act(ReturnAction.RECEIVE, ret, request, caller)
        restocked = sorted({line.sku for line in lines if line.condition == "resellable"})
        await wake_restocked(self._session, self._temporal, restocked, background)
        return done

    async def _decide(
        self,
        action: ReturnAction,
        return_id: str,
        reason: str | None,
        caller: Principal,
        key: str | None,
    ) -> ReturnRecord:
        ret = await self.get(return_id, caller)
        request = to_decision(request_id(return_id, action, key), caller.actor, reason)
        return await self._act(action, ret, request, caller)

    async def _act(
        self,
        action: ReturnAction,
        ret: ReturnRecord,
        request: ReturnDecision | ReceiveRequest,
        caller: Principal,
    ) -> ReturnRecord:
        """Send the Update, audit its outcome, read the return afresh."""
        return_id, order_id, status = ret.id, ret.order_id, ReturnStatus(ret.status)
        asked = {"return_id": return_id, **_asked(request)}
        earlier = await AuditRepository(self._session).requests_of(request.request_id)
        if any(other != asked for other in earlier):
            raise Conflict("this Idempotency-Key was already used for a different request")
        audit = partial(
            to_return_audit_row, order_id, request.request_id, AUDITED[action], caller.actor, asked
        )
        try:
            await self._send(action, return_id, status, request)
        except Refused as refused:
            await self._writes.audit_alone(audit(refused.reason))
            raise
        await self._writes.audit_alone(audit())
        self._session.expunge_all()  # the workflow wrote the return meanwhile
        return await self.get(return_id, caller)

    async def _send(
        self,
        action: ReturnAction,
        return_id: str,
        status: ReturnStatus,
        request: ReturnDecision | ReceiveRequest,
    ) -> None:
        try:
            await self._updates.send(return_id, action, request)
        except WorkflowNotRunning:
            if status in RETURN_TERMINAL:
                raise Refused(f"the return is {status}") from None
            raise SupportUnavailable(
                "the return's workflow has not started yet; retry shortly"
            ) from None

    # Shared steps

    async def _visible(self, return_id: str, caller: Principal, kind: ReturnKind) -> ReturnRecord:
        found = await returns.get(self._session, return_id)
        if found is None or found.kind != kind.value or not caller.sees(found.channel):
            raise ReturnNotFound(return_id, kind)
        return found


def _asked(request: ReturnDecision | ReceiveRequest) -> dict[str, object]:
    """What an Update asked, as the audit row stores it (without its ids and the caller)."""
    if isinstance(request, ReceiveRequest):
        lines = [
            {"sku": line.sku, "quantity": line.quantity, "condition": line.condition.value}
            for line in request.lines
        ]
        return {"lines": lines}
    return {} if request.reason is None else {"reason": request.reason}
