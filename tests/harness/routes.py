"""What each route of the app declares about who may call it, read from FastAPI's dependency
tree: the scopes of its `Security(...)` dependencies, or `OPEN` (api/auth.py)."""

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from api.auth import open_to_anyone


@dataclass(frozen=True)
class Declared:
    method: str
    path: str
    scopes: frozenset[str]
    open: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _walk(dependant: Dependant) -> tuple[set[str], bool]:
    scopes, is_open = set(dependant.own_oauth_scopes or []), dependant.call is open_to_anyone
    for sub in dependant.dependencies:
        more, sub_open = _walk(sub)
        scopes |= more
        is_open = is_open or sub_open
    return scopes, is_open


def declared_routes(app: FastAPI) -> list[Declared]:
    """One entry per method of every API route, at its full path (FastAPI's docs routes are
    not APIRoutes). Routes declare scopes themselves, never through their router."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            scopes, is_open = _walk(route.dependant)
            for method in sorted((context.methods or set()) - {"HEAD"}):
                found.append(Declared(method, context.path or "", frozenset(scopes), is_open))
    return found


def plain_routes(app: FastAPI) -> list[BaseRoute]:
    """What the app serves that is not an APIRoute: FastAPI's docs, mounts."""
    found = (c.original_route for c in iter_route_contexts(app.routes))
    return [route for route in found if not isinstance(route, APIRoute)]
