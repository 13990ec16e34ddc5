"""The real parts behind api/support_service.py: PostgreSQL (`SupportRecords`) and Temporal
(`OrderUpdates`)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Refused, SupportUnavailable
from api.support_service import WorkflowNotRunning
from db.audit import AuditRepository
from db.mapping import to_audit_row
from db.models import AuditRecord, OrderRecord
from db.orders import OrderHead, OrderRepository
from db.stock import StockRepository
from workflows.contracts import RecordAuditInput, SupportAction, SupportRequest, order_workflow_id

UPDATE_WAIT = timedelta(seconds=10)  # an update answers at once when a worker is up


class SqlSupportRecords:
    """The request's session: reads see what is committed now (the workflow writes meanwhile)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def order(self, order_id: str) -> OrderRecord | None:
        self._session.expunge_all()  # rows loaded before the workflow moved the order are stale
        return await OrderRepository(self._session).get_with_details(order_id)

    async def head(self, order_id: str) -> OrderHead | None:
        return await OrderRepository(self._session).head(order_id)

    async def unknown_skus(self, skus: Sequence[str]) -> list[str]:
        return await StockRepository(self._session).unknown_skus(skus)

    async def requests_of(self, request_id: str) -> list[dict[str, object]]:
        return await AuditRepository(self._session).requests_of(request_id)

    async def audit(self, record: RecordAuditInput) -> None:
        await self._session.rollback()  # end the read transaction: the row commits on its own
        async with self._session.begin():
            await AuditRepository(self._session).add(to_audit_row(record))

    async def audit_trail(self, order_id: str) -> Sequence[AuditRecord]:
        return await AuditRepository(self._session).for_order(order_id)


class TemporalOrderUpdates:
    """Updates through the process's Temporal client; the request id is the update id."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def send(self, order_id: str, action: SupportAction, request: SupportRequest) -> None:
        handle = self._client.get_workflow_handle(order_workflow_id(order_id))
        with update_answers(order_id, "order"):
            await handle.execute_update(
                action.value,  # the workflow's update of that name: change, hold, release, cancel
                request,
                id=request.request_id,
                rpc_timeout=UPDATE_WAIT,
            )


@contextmanager
def update_answers(workflow: str, what: str) -> Iterator[None]:
    """An Update's failures as the API answers them: Refused (the validator or handler said no,
    and why: 409), WorkflowNotRunning (closed, or never started), SupportUnavailable (Temporal
    did not answer: the action may still apply, 503). Shared by the orders' and returns'."""
    try:
        yield
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise Refused(reason) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowNotRunning(workflow) from err
        raise _unavailable(what) from err
    except (WorkflowUpdateRPCTimeoutOrCancelledError, RuntimeError) as err:
        raise _unavailable(what) from err


def _unavailable(what: str) -> SupportUnavailable:
    return SupportUnavailable(
        f"the workflow service did not answer; the action may still apply, check the {what}"
    )
