"""The e-mails an order sent its customer: what, when, to which address, how it went."""

from typing import Annotated

from fastapi import APIRouter

from api.auth import grants
from api.deps import SessionDep
from api.errors import OrderNotFound, answers
from api.integration_mapping import to_notification_public
from api.integration_schemas import NotificationsPublic
from db import notifications
from db.orders import OrderRepository
from security.principal import Principal
from security.roles import Scope

router = APIRouter(tags=["customer e-mails"])


@router.get("/v1/orders/{order_id}/notifications", responses=answers({404: "No such order"}))
async def list_notifications(
    order_id: str,
    session: SessionDep,
    caller: Annotated[Principal, grants(Scope.NOTIFICATIONS_READ)],
) -> NotificationsPublic:
    """The order's customer e-mails, oldest first: `sent`, `sending` (handed to the mail
    server, not yet confirmed), `pending` (waiting for it) or `failed` (after 3 days)."""
    head = await OrderRepository(session).head(order_id)
    if head is None or not caller.sees(head.channel):
        raise OrderNotFound(order_id)
    rows = await notifications.of_order(session, order_id)
    return NotificationsPublic(items=[to_notification_public(row) for row in rows])
