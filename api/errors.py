"""Error answers: 422s in FastAPI's own shape for checks pydantic cannot make, 503s for outages."""

from collections.abc import Sequence

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError


def field_error(loc: Sequence[str | int], msg: str, kind: str, value: object) -> dict[str, object]:
    """One entry of a 422 body, like pydantic's: where, what, which kind, the input."""
    return {"type": kind, "loc": list(loc), "msg": msg, "input": value}


def invalid(errors: list[dict[str, object]]) -> RequestValidationError:
    """A 422 with these entries, answered by FastAPI's default handler."""
    return RequestValidationError(errors)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    del request, exc  # the driver's message can hold connection details: not for clients
    return JSONResponse(
        {"detail": "the database is unavailable; retry shortly"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


class WorkflowUnavailable(Exception):
    """The order is stored but Temporal could not start its workflow."""

    def __init__(self, order_id: str) -> None:
        super().__init__(order_id)
        self.order_id = order_id


async def _workflow_unavailable(request: Request, exc: Exception) -> JSONResponse:
    del request
    assert isinstance(exc, WorkflowUnavailable)
    detail = (
        f"order {exc.order_id} is stored but could not be started: the workflow service is "
        "unavailable. Retry with the same Idempotency-Key; it will be started in any case."
    )
    return JSONResponse(
        {"detail": detail, "order_id": exc.order_id},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5", "Location": f"/v1/orders/{exc.order_id}"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Outages answer 503 with a body saying what to do, never 500."""
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(WorkflowUnavailable, _workflow_unavailable)
