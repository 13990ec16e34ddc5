"""Error answers, each raised one way: NotFound (404), Conflict (409), the 422s pydantic cannot
make (in FastAPI's own shape), and 503s for outages. Routes raise these, never HTTPException."""

import json
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError

from api.access import RateLimited
from api.schemas import Problem


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


class NotFound(LookupError):
    """What the request names does not exist (a 404); the message says what."""


class OrderNotFound(NotFound):
    """No order has this id."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id


class SkuNotFound(NotFound):
    """The inventory has never heard of this SKU."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"unknown SKU {sku!r}")


class Conflict(Exception):
    """The request cannot apply to what is there now (a 409); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(Conflict):
    """The order said no to a support action."""


class Unauthenticated(Exception):
    """No credentials, or not ones we issued and still honour (a 401); the message says which."""


class Forbidden(Exception):
    """Authenticated, but the caller's role lacks the scope the route needs (a 403)."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"this caller's role lacks the scope {scope!r}")
        self.scope = scope


class SupportUnavailable(Exception):
    """Temporal did not answer, or the order's workflow has not started yet (a 503)."""


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    del request
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    del request
    assert isinstance(exc, Conflict)
    return JSONResponse({"detail": exc.reason}, status_code=status.HTTP_409_CONFLICT)


async def _support_unavailable(request: Request, exc: Exception) -> JSONResponse:
    del request
    return JSONResponse(
        {"detail": str(exc)},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


async def _unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    del request
    return JSONResponse(
        {"detail": str(exc)},
        status_code=status.HTTP_401_UNAUTHORIZED,
        headers={"WWW-Authenticate": 'Bearer realm="oms"'},
    )


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    del request
    assert isinstance(exc, Forbidden)
    return JSONResponse(
        {"detail": str(exc), "scope": exc.scope}, status_code=status.HTTP_403_FORBIDDEN
    )


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    del request
    assert isinstance(exc, RateLimited)
    return JSONResponse(
        {"detail": str(exc)},
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(exc.retry_after)},
    )


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, but safe to render: an input JSON cannot carry (NaN, a lone surrogate)
    is left out of the entry instead of turning the answer into a 500."""
    del request
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": [_renderable(error) for error in exc.errors()]}, status_code=422)


def _renderable(error: dict[str, object]) -> object:
    entry = jsonable_encoder(error)
    try:
        json.dumps(entry, allow_nan=False, ensure_ascii=False).encode()  # as JSONResponse does
    except (ValueError, UnicodeEncodeError):
        entry = {key: value for key, value in entry.items() if key not in ("input", "ctx")}
    return entry


async def _unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """A value PostgreSQL cannot store (a NUL character in text): a 422, the transaction undone."""
    del request
    nul = "NUL" in str(exc)
    entry = {
        "type": "nul_character" if nul else "unstorable_value",
        "loc": ["request"],
        "msg": "text must not contain NUL (\\u0000)" if nul else "a value cannot be stored",
    }
    return JSONResponse({"detail": [entry]}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Outages answer 503 with a body saying what to do, never 500; bad input answers 422."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DataError, _unstorable_value)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(WorkflowUnavailable, _workflow_unavailable)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(SupportUnavailable, _support_unavailable)
    app.add_exception_handler(Unauthenticated, _unauthenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(RateLimited, _rate_limited)


# How routes document these answers in the OpenAPI schema.

Responses = dict[int | str, dict[str, Any]]


def answers(descriptions: dict[int, str]) -> Responses:
    """`answers({404: "No such order"})`: the error answers of a route, each a Problem body."""
    return {code: {"model": Problem, "description": text} for code, text in descriptions.items()}
