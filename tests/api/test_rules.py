"""Every API route declares who may call it; partners reach only their own routes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from plumetrace.api import create_app
from plumetrace.api.deps import PUBLIC, PublicGuard, RoleGuard, require
from plumetrace.errors import ConfigurationError
from plumetrace.security import ROLES
from plumetrace.settings import Settings

from .conftest import Api

PUBLIC_ROUTES = {("POST", "/api/auth/login")}

PARTNER_PREFIXES = ("/api/partner/", "/taxii2/", "/api/auth/")
"""The only routes a partner user may reach: its leads, TAXII, and its own login."""


DOC_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
WEB_PATHS = {"", "/"}
"""The workbench page (a static mount at /, or the not-built notice)."""


def _flatten(routes: list[BaseRoute]) -> list[APIRoute]:
    """Every APIRoute, also those of included routers; anything unknown fails."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):  # FastAPI >= 0.16x includes routers lazily
            out += _flatten(route.original_router.routes)
        elif isinstance(route, Mount | Route) and route.path in WEB_PATHS:
            continue  # the workbench page's static files: public, they hold no data
        else:
            assert isinstance(route, Route) and route.path in DOC_PATHS, route
    return out


def _routes(tmp_path: Path) -> list[APIRoute]:
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    return _flatten(app.routes)


def _guards(route: APIRoute) -> list[RoleGuard | PublicGuard]:
    return [
        d.call for d in route.dependant.dependencies if isinstance(d.call, RoleGuard | PublicGuard)
    ]


def _roles(route: APIRoute) -> list[str]:
    return list((route.openapi_extra or {}).get("x-roles", []))


def _calls(routes: list[APIRoute]) -> list[tuple[str, str]]:
    out = []
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "x-1", route.path)
        out += [(m, path) for m in sorted(route.methods or ())]
    return out


def test_every_api_route_declares_its_roles(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    assert len(routes) >= 20
    for route in routes:
        assert route.path.startswith(("/api/", "/taxii2/")), route.path
        roles = (route.openapi_extra or {}).get("x-roles")
        assert roles, f"{route.path} has no x-roles"
        guards = _guards(route)
        assert len(guards) == 1, f"{route.path} needs exactly one role guard"
        assert list(guards[0].roles) == roles
        # the guard is the first dependency: it runs before the body or the database
        assert route.dependant.dependencies[0].call is guards[0]
        if roles == [PUBLIC]:
            assert {(m, route.path) for m in route.methods or ()} <= PUBLIC_ROUTES
        else:
            assert set(roles) <= set(ROLES)
            if "partner" in roles:
                assert route.path.startswith(PARTNER_PREFIXES), route.path


def test_openapi_documents_the_roles(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("x-roles"), (method, path)
    assert api.client.get("/docs").status_code == 200


def test_require_refuses_bad_rules() -> None:
    with pytest.raises(ConfigurationError):
        require()
    with pytest.raises(ConfigurationError, match="unknown"):
        require("analyst", "wizard")
    with pytest.raises(ConfigurationError, match="public"):
        require(PUBLIC, "analyst")


def test_partner_gets_403_on_every_staff_route(api: Api, tmp_path: Path) -> None:
    routes = [r for r in _routes(tmp_path) if not {"partner", PUBLIC} & set(_roles(r))]
    assert len(routes) >= 20
    for method, path in _calls(routes):
        r = api.client.request(method, path, headers=api.auth("pat"), json={})
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "partner" in r.json()["detail"]


def test_no_or_bad_token_gets_401_everywhere(api: Api, tmp_path: Path) -> None:
    routes = [r for r in _routes(tmp_path) if _roles(r) != [PUBLIC]]
    for method, path in _calls(routes):
        r = api.client.request(method, path, json={})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["www-authenticate"] == "Bearer"
        r = api.client.request(method, path, headers={"Authorization": "Bearer nope"}, json={})
        assert r.status_code == 401, (method, path, r.status_code)


def test_partner_routes_hide_what_is_not_released_to_it(api: Api, tmp_path: Path) -> None:
    """Every partner route, given another partner's or an unreleased lead, answers 404."""
    from plumetrace.store.engine import session_scope
    from plumetrace.store.models import SharedObject
    from plumetrace.store.taxii import collection_id

    from .conftest import release_lead

    mine = release_lead(api)  # Fiscalia's: pat may see it
    theirs = release_lead(api, partner="Other Agency", sites=[api.sites[1]])
    draft_body = {"partner": "Fiscalia", "sites": [api.sites[0]], "title": "D"}
    draft = api.post("/api/leads", "lia", json=draft_body).json()["id"]
    with session_scope(api.engine) as s:
        their_object = (
            s.query(SharedObject.stix_id).filter_by(lead_id=theirs, stix_type="indicator").scalar()
        )
    other_coll = collection_id("partner-other-agency")
    own_coll = collection_id("partner-fiscalia")
    routes = [r for r in _routes(tmp_path) if "partner" in _roles(r)]
    checked = 0
    for route in routes:
        params = set(re.findall(r"\{([^}]+)\}", route.path))
        if not params:
            continue
        cases = []
        if "lead_id" in params:
            cases = [{"lead_id": theirs}, {"lead_id": draft}, {"lead_id": "lead-nope"}]
        elif params == {"collection_id"}:
            cases = [{"collection_id": other_coll}]
        elif params == {"collection_id", "object_id"}:
            # another partner's collection, or its object looked up in mine
            cases = [
                {"collection_id": other_coll, "object_id": their_object},
                {"collection_id": own_coll, "object_id": their_object},
            ]
        assert cases, route.path
        for case in cases:
            path = route.path
            for k, v in case.items():
                path = path.replace("{" + k + "}", str(v))
            for method in route.methods or ():
                body = {"outcome": "arrests"} if path.endswith("/feedback") else {}
                r = api.client.request(method, path, headers=api.auth("pat"), json=body)
                assert r.status_code == 404, (method, path, r.status_code, r.text)
                # the answer is the one for an id that does not exist: nothing about it
                assert "Other Agency" not in r.text and "partner-other" not in r.text
                assert "Suspected" not in r.text and "draft" not in r.text
                checked += 1
    assert checked >= 19  # 4 lead routes x 3 ids, 3 collection routes, 2 object routes x 2
    # and the same routes do answer for what is released to it
    assert api.get(f"/api/partner/leads/{mine}", "pat").status_code == 200
