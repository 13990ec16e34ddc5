"""The codec endpoints the Temporal UI decodes with: ops, support and admin only, the UI's origin
only, the API's own keys; a payload no key opens is refused, never passed off as decoded."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from db.session import SessionFactory
from security.payloads import KEY_ID, is_sealed
from security.roles import Role
from settings import Settings
from tests.factories import make_order_input
from tests.harness.console import log_in_http, make_user, serve_console_api
from tests.harness.keys import bearer, payload_converter
from tests.harness.servers import serve_api
from workflows.contracts import OrderInput

pytestmark = pytest.mark.integration

UI = "http://127.0.0.1:8233"  # the settings' temporal_ui_url: the one origin allowed
ORDER = make_order_input()
OTHER_KEY = "other:" + "A" * 43  # a key the API does not hold


@pytest.fixture
async def codec(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process, called without credentials unless a test passes some."""
    async with serve_api(settings.model_copy(update={"temporal_ui_url": UI})) as client:
        yield client


def body(*payloads: Payload) -> dict[str, Any]:
    return {"payloads": [json_format.MessageToDict(p) for p in payloads]}


def payloads_of(answer: httpx.Response) -> list[Payload]:
    assert answer.status_code == 200, answer.text
    return [json_format.ParseDict(p, Payload()) for p in answer.json()["payloads"]]


async def sealed(order: OrderInput, converter: DataConverter | None = None) -> Payload:
    [payload] = await (converter or payload_converter()).encode([order])
    return payload


@pytest.mark.parametrize("role", [Role.OPS, Role.SUPPORT, Role.ADMIN])
async def test_ops_support_and_admin_get_the_payloads_decoded(
    codec: httpx.AsyncClient, role_keys: dict[Role, str], role: Role
) -> None:
    answer = await codec.post(
        "/codec/decode", json=body(await sealed(ORDER)), headers=bearer(role_keys[role])
    )

    [decoded] = payloads_of(answer)
    assert DataConverter.default.payload_converter.from_payload(decoded, OrderInput) == ORDER


async def test_encode_seals_with_the_api_s_current_key(
    codec: httpx.AsyncClient, role_keys: dict[Role, str]
) -> None:
    [plain] = await DataConverter.default.encode([ORDER])

    answer = await codec.post(
        "/codec/encode", json=body(plain), headers=bearer(role_keys[Role.OPS])
    )

    [encoded] = payloads_of(answer)
    assert encoded.metadata[KEY_ID] == b"test-1"
    assert await payload_converter().decode([encoded], [OrderInput]) == [ORDER]


async def test_a_storefront_or_a_warehouse_key_is_forbidden(
    codec: httpx.AsyncClient, role_keys: dict[Role, str]
) -> None:
    payload = body(await sealed(ORDER))
    for role in (Role.STOREFRONT, Role.WAREHOUSE):
        answer = await codec.post("/codec/decode", json=payload, headers=bearer(role_keys[role]))

        assert answer.status_code == 403, role
        assert answer.json()["scope"] == "payloads:decode"


async def test_an_anonymous_caller_is_asked_to_authenticate(codec: httpx.AsyncClient) -> None:
    for path in ("/codec/decode", "/codec/encode"):
        answer = await codec.post(path, json=body(await sealed(ORDER)))

        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "payloads" not in answer.json()


async def test_plaintext_from_before_encryption_comes_back_as_it_is(
    codec: httpx.AsyncClient, role_keys: dict[Role, str]
) -> None:
    [plain] = await DataConverter.default.encode([ORDER])

    answer = await codec.post(
        "/codec/decode", json=body(plain), headers=bearer(role_keys[Role.OPS])
    )

    assert payloads_of(answer) == [plain]


async def test_a_payload_of_a_key_the_api_lacks_is_refused_naming_the_key(
    codec: httpx.AsyncClient, role_keys: dict[Role, str]
) -> None:
    foreign = await sealed(ORDER, payload_converter(OTHER_KEY))
    ours = await sealed(ORDER)

    answer = await codec.post(
        "/codec/decode", json=body(ours, foreign), headers=bearer(role_keys[Role.OPS])
    )

    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "payloads", 1]
    assert "key 'other', which is not configured (keys: test-1)" in error["msg"]


async def test_after_a_rotation_payloads_of_the_old_and_the_new_key_both_decode(
    settings: Settings, role_keys: dict[Role, str]
) -> None:
    old = await sealed(ORDER)
    new_and_old = "test-2:" + "B" * 43 + ",test-1:zqssG07CIs70hYi38cW6ClJVALND8poCV9EwxyVRLuE"
    rotated = settings.model_copy(update={"payload_keys": SecretStr(new_and_old)})
    new = await sealed(ORDER, payload_converter(new_and_old))

    async with serve_api(rotated) as client:
        answer = await client.post(
            "/codec/decode", json=body(old, new), headers=bearer(role_keys[Role.SUPPORT])
        )

    assert [p.metadata[KEY_ID] for p in (old, new)] == [b"test-1", b"test-2"]
    assert [is_sealed(p) for p in payloads_of(answer)] == [False, False]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{", "application/json"), (b'{"payloads": 3}', "application/json"), (b"{}", "text/plain")],
)
async def test_a_body_that_is_not_payloads_is_a_422(
    codec: httpx.AsyncClient, role_keys: dict[Role, str], content: bytes, content_type: str
) -> None:
    headers = bearer(role_keys[Role.OPS]) | {"Content-Type": content_type}

    answer = await codec.post("/codec/decode", content=content, headers=headers)

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][0] in ("body", "header")


# The console's session: an agent logged in there decodes in the Temporal UI


async def test_an_agent_logged_into_the_console_gets_the_payloads_decoded(
    settings: Settings, sessions: SessionFactory
) -> None:
    agent = await make_user(sessions, Role.SUPPORT)
    async with serve_console_api(settings) as browser:
        assert (await log_in_http(browser, agent.username, agent.password)).status_code == 303

        answer = await browser.post(
            "/codec/decode", json=body(await sealed(ORDER)), headers={"Origin": UI}
        )

    [decoded] = payloads_of(answer)
    assert DataConverter.default.payload_converter.from_payload(decoded, OrderInput) == ORDER


async def test_a_console_user_whose_role_lacks_the_scope_is_forbidden(
    settings: Settings, sessions: SessionFactory
) -> None:
    picker = await make_user(sessions, Role.WAREHOUSE)
    async with serve_console_api(settings) as browser:
        assert (await log_in_http(browser, picker.username, picker.password)).status_code == 303

        answer = await browser.post("/codec/decode", json=body(await sealed(ORDER)))

    assert answer.status_code == 403


async def test_a_session_cookie_that_is_not_a_live_session_is_anonymous(
    codec: httpx.AsyncClient,
) -> None:
    codec.cookies.set("oms_session", "0" * 43)

    answer = await codec.post("/codec/decode", json=body(await sealed(ORDER)))

    assert answer.status_code == 401


# CORS: the Temporal UI's origin only, and only on /codec/


async def test_the_ui_s_preflight_is_answered_with_credentials_allowed(
    codec: httpx.AsyncClient,
) -> None:
    answer = await codec.options(
        "/codec/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )

    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == UI
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    assert answer.headers["Access-Control-Allow-Methods"] == "POST"
    allowed = {h.strip().lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-namespace"} <= allowed


async def test_the_ui_may_read_the_answer_even_a_refusal(
    codec: httpx.AsyncClient, role_keys: dict[Role, str]
) -> None:
    payload = body(await sealed(ORDER))
    decoded = await codec.post(
        "/codec/decode", json=payload, headers={"Origin": UI} | bearer(role_keys[Role.OPS])
    )
    refused = await codec.post("/codec/decode", json=payload, headers={"Origin": UI})

    assert (decoded.status_code, refused.status_code) == (200, 401)
    for answer in (decoded, refused):
        assert answer.headers["Access-Control-Allow-Origin"] == UI
        assert answer.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:8233", "null"])
async def test_any_other_origin_is_refused_preflight_and_request_alike(
    codec: httpx.AsyncClient, role_keys: dict[Role, str], origin: str
) -> None:
    preflight = await codec.options(
        "/codec/decode", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    request = await codec.post(
        "/codec/decode",
        json=body(await sealed(ORDER)),
        headers={"Origin": origin} | bearer(role_keys[Role.ADMIN]),
    )

    for answer in (preflight, request):
        assert answer.status_code == 403
        assert "Access-Control-Allow-Origin" not in answer.headers
        assert "payloads" not in answer.json()


async def test_the_rest_of_the_api_answers_no_cors_even_to_the_ui(
    codec: httpx.AsyncClient, role_keys: dict[Role, str]
) -> None:
    answer = await codec.get(
        "/v1/inventory/SKU-NONE", headers={"Origin": UI} | bearer(role_keys[Role.ADMIN])
    )
    preflight = await codec.options(
        "/v1/orders", headers={"Origin": UI, "Access-Control-Request-Method": "POST"}
    )

    assert "Access-Control-Allow-Origin" not in answer.headers
    assert "Access-Control-Allow-Origin" not in preflight.headers


async def test_the_allowed_origin_can_be_set_apart_from_the_ui_url(
    settings: Settings, role_keys: dict[Role, str]
) -> None:
    proxied = settings.model_copy(update={"codec_cors_origin": "https://temporal.example.com/"})

    async with serve_api(proxied) as client:
        answer = await client.options(
            "/codec/decode",
            headers={
                "Origin": "https://temporal.example.com",
                "Access-Control-Request-Method": "POST",
            },
        )
        default_ui = await client.options(
            "/codec/decode", headers={"Origin": UI, "Access-Control-Request-Method": "POST"}
        )

    assert answer.status_code == 204
    assert default_ui.status_code == 403
