"""The Temporal UI's remote codec: `POST /codec/decode` and `/codec/encode`, Temporal's codec
server protocol (`{"payloads": [...]}` in, the same payloads decoded or encrypted out).

Who: an API key (`Authorization: Bearer`) or, without one, the console's session cookie, of a
role granted `payloads:decode` (ops, support, admin). No credentials: 401; a storefront: 403.
The UI calls from its own origin (another port): `CodecCors` answers its preflight and lets it
read the answers, for that origin only (OMS_CODEC_CORS_ORIGIN, by default the origin of
OMS_TEMPORAL_UI_URL) and with credentials, so an agent's console cookie goes along. A request
from any other origin is refused (403) before it reaches a route; one without an Origin (the CLI,
curl) needs its credentials like any other. The UI sends the cookie once its codec setting
"Include cross-origin credentials" is on (README, Payload encryption).
"""

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import SecurityScopes
from google.protobuf import json_format
from starlette import types as asgi
from starlette.datastructures import Headers, MutableHeaders
from temporalio.api.common.v1 import Payload, Payloads

from api.auth import BearerDep, authenticate_key, require_scopes
from api.console.access import session_principal
from api.deps import ResourcesDep, SessionDep
from api.errors import Unauthenticated, field_error, invalid
from security.payloads import EncryptionCodec, UndecryptablePayload
from security.principal import Principal
from security.roles import Scope
from settings import Settings

PREFIX = "/codec"
ALLOWED_HEADERS = "Authorization, Authorization-Extras, Content-Type, X-Namespace"  # the UI's
PREFLIGHT_MAX_AGE = "600"  # seconds the browser may reuse a preflight's answer

router = APIRouter(prefix=PREFIX, tags=["codec"])

BODY: dict[str, Any] = {  # the request body, for the OpenAPI document (parsed as protobuf JSON)
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["payloads"],
                    "properties": {
                        "payloads": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "metadata": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "data": {"type": "string", "format": "byte"},
                                },
                            },
                        }
                    },
                }
            }
        },
    }
}


async def codec_caller(
    needed: SecurityScopes,
    request: Request,
    resources: ResourcesDep,
    session: SessionDep,
    credentials: BearerDep,
) -> Principal:
    """An API key or, without one, the console's logged-in user; the role must grant the scope."""
    if credentials is not None:
        caller = await authenticate_key(resources, session, credentials)
    else:
        found = await session_principal(request, session, resources.settings)
        if found is None:
            raise Unauthenticated("an API key (Authorization: Bearer) or a console login is needed")
        caller = found
    return require_scopes(caller, needed)


CodecCaller = Annotated[Principal, Security(codec_caller, scopes=[Scope.PAYLOADS_DECODE.value])]


def client_codec(resources: ResourcesDep) -> EncryptionCodec:
    """The codec of the API's own Temporal client: the keys the API encrypts with."""
    codec = resources.temporal.data_converter.payload_codec
    assert isinstance(codec, EncryptionCodec), "connect_temporal always sets the codec"
    return codec


@router.post("/decode", openapi_extra=BODY)
async def decode(request: Request, caller: CodecCaller, resources: ResourcesDep) -> Response:
    """The payloads decrypted (plaintext ones as they are); 422 naming a key that is missing."""
    del caller
    codec, payloads = client_codec(resources), await _payloads(request)
    opened = []
    for at, payload in enumerate(payloads):
        try:
            opened.append(codec.open(payload))
        except UndecryptablePayload as error:
            raise _invalid(("body", "payloads", at), str(error), "undecryptable") from None
    return _answer(opened)


@router.post("/encode", openapi_extra=BODY)
async def encode(request: Request, caller: CodecCaller, resources: ResourcesDep) -> Response:
    """The payloads encrypted with the current key, as the API's client would send them."""
    del caller
    codec, payloads = client_codec(resources), await _payloads(request)
    return _answer([codec.seal(payload) for payload in payloads])


async def _payloads(request: Request) -> list[Payload]:
    """The request's payloads (protobuf's JSON form of `Payloads`), or a 422 saying why not."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise _invalid(("header", "content-type"), "must be application/json", "content_type")
    try:  # api/body_limit.py has capped the body's size (413) before it got here
        parsed = json_format.Parse(await request.body(), Payloads())
    except (json_format.ParseError, ValueError, TypeError) as error:
        raise _invalid(("body",), str(error)[:200], "payloads") from None
    return list(parsed.payloads)


def _invalid(loc: tuple[str | int, ...], msg: str, kind: str) -> Exception:
    return invalid([field_error(loc, msg, kind, None)])


def _answer(payloads: list[Payload]) -> Response:
    return JSONResponse({"payloads": [json_format.MessageToDict(p) for p in payloads]})


def allowed_origin(settings: Settings) -> str:
    """The one origin that may call the codec from a browser: the Temporal UI's."""
    configured = settings.codec_cors_origin
    if configured:
        return configured.rstrip("/")
    parts = urlsplit(settings.temporal_ui_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class CodecCors:
    """CORS for `/codec/` only (the rest of the API is never called from a browser's script):
    the UI's origin gets its preflight answered and may read answers, with credentials; any
    other origin gets a 403."""

    def __init__(self, app: asgi.ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        origin = Headers(scope=scope).get("origin") if scope["type"] == "http" else None
        if origin is None or not scope["path"].startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.resources.settings
        if origin != allowed_origin(settings):
            refused = JSONResponse({"detail": f"origin {origin} may not call the codec"}, 403)
            await refused(scope, receive, send)
        elif scope["method"] == "OPTIONS":  # a preflight: it never carries credentials
            preflight = {
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            }
            await Response(status_code=204, headers=_cors(origin) | preflight)(scope, receive, send)
        else:
            await self.app(scope, receive, _with_cors(send, origin))


def _cors(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def _with_cors(send: asgi.Send, origin: str) -> asgi.Send:
    async def sending(message: asgi.Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).update(_cors(origin))
        await send(message)

    return sending
