"""Input the database or JSON cannot hold is refused with a 4xx, not a 500.

Found while fuzzing the API (these answered 500 until api/errors.py handled them):
- NUL (U+0000) anywhere PostgreSQL gets it: psycopg refuses it (DataError) -> 422.
- A lone surrogate (a JSON escape like \\ud800) in body text, or a non-finite number (NaN,
  Infinity, 1e400, which Python's JSON reader accepts): pydantic refuses it; the 422 leaves out
  the input it cannot render.
"""

from uuid import uuid4

import pytest
import requests

pytestmark = pytest.mark.integration

ORDER = (
    '{"customer": {"id": "c-1", "email": "ada@example.com", "name": %s},'
    ' "shipping_address": {"name": "Ada", "line1": "1 Main St", "city": "Berlin",'
    ' "postal_code": "10115", "country": "DE"},'
    ' "lines": [{"sku": "{sku}", "quantity": %s, "unit_price": 1999}],'
    ' "currency": "EUR", "payment": {"token": "tok_visa"}}'
)
CASES = [
    pytest.param("GET", "/v1/orders/a%00b", None, id="NUL in an order id"),
    pytest.param("GET", "/v1/inventory/a%00b", None, id="NUL in a SKU"),
    pytest.param("GET", "/v1/orders?customer_id=a%00b", None, id="NUL in a query"),
    pytest.param("POST", "/v1/orders", ORDER % ('"Ada\\u0000"', 1), id="NUL in a name"),
    pytest.param(
        "POST",
        "/v1/inventory/{sku}/adjustments",
        '{"delta": 1, "reason": "\\udfff"}',
        id="lone surrogate in a reason",
    ),
    pytest.param(
        "POST",
        "/v1/orders",
        ORDER % ('"\\ud800"', 1),
        id="lone surrogate in a name",
    ),
    pytest.param("PUT", "/v1/inventory/{sku}", '{"on_hand": NaN}', id="NaN"),
    pytest.param("POST", "/v1/orders", ORDER % ('"Ada"', "1e400"), id="1e400 units"),
]


@pytest.fixture(scope="module")
def sku(live_url: str, admin: dict[str, str]) -> str:
    """A SKU in stock, so requests get past 'unknown SKU' to where the bugs are."""
    name = f"SKU-HOSTILE-{uuid4().hex[:10].upper()}"
    url = f"{live_url}/v1/inventory/{name}"
    counted = requests.put(url, json={"on_hand": 5}, headers=admin, timeout=10)
    assert counted.status_code == 200, counted.text
    return name


@pytest.mark.parametrize(("method", "path", "body"), CASES)
def test_input_the_database_or_json_cannot_hold_is_refused_with_a_4xx_that_says_why(
    live_url: str, sku: str, admin: dict[str, str], method: str, path: str, body: str | None
) -> None:
    answer = requests.request(
        method,
        live_url + path.replace("{sku}", sku),
        data=None if body is None else body.replace("{sku}", sku).encode(),
        headers={"Content-Type": "application/json"} | admin,
        timeout=10,
    )

    assert 400 <= answer.status_code < 500, f"{answer.status_code}: {answer.text[:200]}"
    assert answer.json()["detail"]
