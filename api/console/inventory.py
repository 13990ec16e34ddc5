"""The console's inventory: find SKUs, see a SKU's stock and movements, adjust it with a reason.

Reading needs `inventory:read` (support, warehouse, ops, admin); adjusting `inventory:write`
(warehouse, admin), and only those see the form. The form carries the on-hand count the page
showed: if the stock moved since (someone else's adjustment, a shipment, or the same form sent
twice), the adjustment is refused unchanged, so no one adjusts a number they have not seen.
A receipt wakes the orders backordered on the SKU, as the API's adjustment does.
"""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from api.backorders import wake_backorders
from api.console import answers, forms, pages
from api.console.access import console_grants
from api.console.answers import Answer, FormProblem
from api.deps import SessionDep, TemporalDep
from db.models import InventoryRecord
from db.stock import StockConflict, StockRepository
from security.principal import Principal
from security.roles import Scope

router = APIRouter(prefix=f"{pages.PREFIX}/inventory", include_in_schema=False)

RESULTS = 50  # a search shows this many SKUs, in SKU order
MOVEMENTS = 50  # a SKU's page shows its newest movements
Writer = Annotated[Principal, console_grants(Scope.INVENTORY_WRITE)]


@router.get("", dependencies=[console_grants(Scope.INVENTORY_READ)])
async def inventory_page(request: Request, session: SessionDep, q: str = "") -> Response:
    """SKUs starting with `q` (any case): on hand, reserved, available."""
    prefix = q.replace("\x00", "").strip()[:64]
    items = await StockRepository(session).search(prefix, RESULTS)
    context = {"text": prefix, "items": items}
    return pages.render(request, "inventory.html", context)


@router.get("/{sku}", dependencies=[console_grants(Scope.INVENTORY_READ)])
async def sku_page(request: Request, sku: str, session: SessionDep) -> Response:
    """One SKU's stock, its newest movements, and (to a writer) the adjustment form."""
    stock = StockRepository(session)
    item = await stock.get(sku)
    if item is None:
        return pages.not_found(request, "SKU", sku)
    movements = await stock.movements(sku, MOVEMENTS)
    answer = answers.decode(request.cookies.get(answers.COOKIE), _about(sku))
    context = {"item": item, "movements": movements, "answer": answer}
    response = pages.render(request, "sku.html", context)
    if answer is not None:  # shown once
        response.delete_cookie(answers.COOKIE, path=pages.PREFIX)
    return response


@router.post("/{sku}/adjustments")
async def adjust(
    request: Request,
    sku: str,
    caller: Writer,
    session: SessionDep,
    temporal: TemporalDep,
    background: BackgroundTasks,
) -> Response:
    """Add the change (negative removes) to on hand, as the logged-in user's movement."""
    try:
        body, shown = forms.adjustment(await forms.read(request))
    except (FormProblem, ValidationError) as error:
        answer = answers.answer_for(_about(sku), "adjustment", error)
        return _back_to_sku(sku, answer)
    item = await session.get(InventoryRecord, sku, with_for_update=True)  # held to commit
    if item is None:
        return pages.not_found(request, "SKU", sku)
    if item.on_hand != shown:
        text = f"Refused: on hand is {item.on_hand} now, not {shown}: check it and adjust again."
        return _back_to_sku(sku, Answer(about=_about(sku), kind="refused", text=text))
    try:
        item = await StockRepository(session).adjust(sku, body.delta, body.reason, caller.actor)
        await session.commit()
    except StockConflict as conflict:
        text = f"Refused: {conflict}"
        return _back_to_sku(sku, Answer(about=_about(sku), kind="refused", text=text))
    if body.delta > 0:
        await wake_backorders(session, temporal, background, sku)
    text = f"Accepted: {body.delta:+d}. On hand is {item.on_hand} now."
    return _back_to_sku(sku, Answer(about=_about(sku), kind="accepted", text=text))


def _about(sku: str) -> str:
    return f"sku:{sku}"


def _back_to_sku(sku: str, answer: Answer) -> Response:
    """303 to the SKU's page, which shows the answer once (Post/Redirect/Get)."""
    return answers.carry(RedirectResponse(pages.sku_url(sku), status_code=303), answer)
