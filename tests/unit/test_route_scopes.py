"""Every route says who may call it, where it is defined (api/auth.py): a scope, or OPEN.

A route added without either fails here, before any test calls it."""

import re
from pathlib import Path

import pytest
from starlette.routing import Mount, Route

from api.main import create_app
from security.roles import ROLE_SCOPES, Role, Scope
from tests.harness.routes import Declared, declared_routes, plain_routes

APP = create_app()
ROUTES = declared_routes(APP)
README = Path(__file__).resolve().parents[2] / "README.md"
# Open to anyone, on purpose: up/down for load balancers; the console's way in.
OPEN_ROUTES = {"GET /healthz", "GET /console/login", "POST /console/login"}
FASTAPI_DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_each_route_declares_one_scope_or_is_open_on_purpose(route: Declared) -> None:
    if str(route) in OPEN_ROUTES:
        assert route.open
        assert not route.scopes
    else:
        assert not route.open, f"{route} is declared OPEN but is not a route anyone may call"
        assert len(route.scopes) == 1, f"{route} declares scopes {sorted(route.scopes)}"
        assert set(route.scopes) <= {scope.value for scope in Scope}


def test_no_plain_starlette_route_escapes_the_scope_check() -> None:
    """Only FastAPI's docs, and mounted static files, are served outside APIRoutes."""
    plain = [r.path for r in plain_routes(APP) if isinstance(r, Route)]
    mounts = [r.path for r in plain_routes(APP) if isinstance(r, Mount)]
    assert set(plain) <= FASTAPI_DOCS
    assert all(path.endswith("/static") for path in mounts)


def test_every_scope_is_needed_by_some_route_and_granted_to_admin() -> None:
    used = set().union(*(route.scopes for route in ROUTES))
    assert used == {scope.value for scope in Scope}
    assert ROLE_SCOPES[Role.ADMIN] == frozenset(Scope)


def test_the_readme_shows_each_roles_scopes_as_the_code_declares_them() -> None:
    shown = {}
    for line in README.read_text().splitlines():
        if match := re.match(r"^\| `(\w+)` \|.*\| (`[a-z_:]+`(?:, `[a-z_:]+`)*) \|$", line):
            shown[match[1]] = set(re.findall(r"`([a-z_:]+)`", match[2]))
    assert shown == {role.value: {s.value for s in scopes} for role, scopes in ROLE_SCOPES.items()}
