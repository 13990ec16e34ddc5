"""Every operation of the OpenAPI document, fuzzed over real HTTP: no 5xx, every 4xx says why.

The document is the app's own (`create_app().openapi()`, checked to be what the server serves),
so there is one test per operation from collection on (schemathesis' fixture-based loader breaks on
pytest 9); the server is a uvicorn process. Some order bodies get SKUs counted beforehand, so
placing an order gets past validation to PostgreSQL and Temporal too.
"""

from typing import Any
from uuid import uuid4

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from api.main import create_app

Case = schemathesis.Case[Any]  # its operation's type parameters are schemathesis internals

pytestmark = pytest.mark.integration

CONFIG = schemathesis.Config.from_dict(
    {
        "request-timeout": 10,
        "generation": {
            "max-examples": 15,
            "deterministic": True,  # the same requests on every CI run
            "database": "none",
            "allow-x00": True,  # NUL is a 422 wherever it comes: see test_api_hostile_input.py
        },
        # Placing an order is where most can go wrong: more examples, so some get to a 202.
        "operations": [{"include-name": "POST /v1/orders", "generation": {"max-examples": 40}}],
    }
)
STOCKED = [f"SKU-ST-{uuid4().hex[:8].upper()}-{n}" for n in range(8)]
PLACE_ORDER = "POST /v1/orders"

schema = schemathesis.openapi.from_dict(create_app().openapi(), config=CONFIG)


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """Order bodies as generated, or with lines the shop can sell: stocked SKUs, JSON integers."""
    lines = body.get("lines") if isinstance(body, dict) else None
    operation = context.operation
    if operation is None or operation.label != PLACE_ORDER or not isinstance(lines, list):
        return st.just(body)
    return st.just(body) | st.integers(0, len(STOCKED) - 1).map(
        lambda at: {**body, "lines": [_sellable(line, at + n) for n, line in enumerate(lines)]}
    )


def _sellable(line: Any, n: int) -> Any:
    """The line with the n-th stocked SKU (distinct for up to len(STOCKED) lines).

    Generators write integers as 4110.0 at times, which JSON Schema allows and our strict models
    refuse (422): made JSON integers here, so these bodies get to the database and Temporal.
    """
    if not isinstance(line, dict):
        return line
    numbers = {
        key: int(value)
        for key, value in line.items()
        if isinstance(value, float) and value.is_integer()
    }
    return {**line, **numbers, "sku": STOCKED[n % len(STOCKED)]}


def client_errors_say_what_is_wrong(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """A 4xx is JSON with a `detail`: field errors for a 422, a sentence otherwise."""
    if not 400 <= response.status_code < 500:
        return None
    code = response.status_code
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{code} is not JSON: {response.text[:200]!r}") from None
    assert isinstance(body, dict), f"{code} is not a JSON object: {body!r}"
    detail = body.get("detail")
    if code == 422:
        assert isinstance(detail, list), f"422 detail is not a list of errors: {detail!r}"
        assert detail, "422 with no errors"
        assert all({"loc", "msg", "type"} <= set(error) for error in detail), detail
    else:
        assert isinstance(detail, str), f"{code} detail is not text: {body!r}"
        assert detail, f"{code} with an empty detail"
    return True


@pytest.fixture(scope="module")
def stocked_url(live_url: str, admin: dict[str, str]) -> str:
    """The live server, with every SKU of STOCKED counted."""
    for sku in STOCKED:
        url = f"{live_url}/v1/inventory/{sku}"
        counted = requests.put(url, json={"on_hand": 50}, headers=admin, timeout=10)
        assert counted.status_code == 200, counted.text
    return live_url


def test_the_server_serves_the_document_the_tests_are_generated_from(live_url: str) -> None:
    served = requests.get(f"{live_url}/openapi.json", timeout=10)

    assert served.status_code == 200
    assert served.json() == schema.raw_schema


@schema.parametrize()
def test_no_request_gets_a_server_error_and_every_client_error_says_why(
    case: Case, stocked_url: str, admin: dict[str, str]
) -> None:
    case.call_and_validate(
        base_url=stocked_url,
        headers=admin,
        checks=[not_a_server_error, client_errors_say_what_is_wrong],
    )
