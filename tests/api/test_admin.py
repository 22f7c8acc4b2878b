from __future__ import annotations

from .conftest import Api


def test_admin_creates_and_lists_users(api: Api) -> None:
    r = api.post("/api/users", "adm", json={"name": "carla", "role": "analyst"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "carla" and body["role"] == "analyst" and len(body["password"]) >= 16
    login = api.client.post("/api/auth/login", json={"name": "carla", "password": body["password"]})
    assert login.status_code == 200
    users = api.get("/api/users", "adm").json()["users"]
    assert "carla" in [u["name"] for u in users]
    assert all("password_hash" not in u and "password" not in u for u in users)
    assert (
        api.post("/api/users", "adm", json={"name": "carla", "role": "analyst"}).status_code == 409
    )
    assert api.post("/api/users", "adm", json={"name": "dan", "role": "god"}).status_code == 422


def test_only_admins_manage_users(api: Api) -> None:
    for who in ("ana", "sue", "lia"):
        assert api.get("/api/users", who).status_code == 403
        r = api.post("/api/users", who, json={"name": "eve", "role": "admin"})
        assert r.status_code == 403
    assert "eve" not in [u["name"] for u in api.get("/api/users", "adm").json()["users"]]


def test_audit_verify(api: Api) -> None:
    for who in ("sue", "adm"):
        r = api.get("/api/audit/verify", who)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ok"] is True and body["events"] > 0 and body["problems"] == []
    head = body["head"]
    assert api.get("/api/audit/verify", "sue", params={"expect_head": head}).json()["ok"]
    bad = api.get("/api/audit/verify", "sue", params={"expect_head": "1:" + "0" * 64}).json()
    assert bad["ok"] is False and "no longer in the chain" in bad["problems"][0]
    for who in ("ana", "lia"):
        assert api.get("/api/audit/verify", who).status_code == 403


def test_admin_revokes_tokens_and_deactivates_users(api: Api) -> None:
    ana = api.user_ids["ana"]
    assert api.get("/api/auth/me", "ana").status_code == 200
    r = api.post(f"/api/users/{ana}/revoke-tokens", "adm")
    assert r.status_code == 200 and r.json() == {"revoked": 1}
    assert api.get("/api/auth/me", "ana").status_code == 401  # logged out everywhere
    # deactivated: tokens gone at once and no new login; reactivated: may log in again
    assert api.get("/api/auth/me", "bob").status_code == 200
    off = api.client.put("/api/users/bob/active", headers=api.auth("adm"), json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert api.get("/api/auth/me", "bob").status_code == 401
    login = {"name": "bob", "password": api.passwords["bob"]}
    assert api.client.post("/api/auth/login", json=login).status_code == 401
    on = api.client.put("/api/users/bob/active", headers=api.auth("adm"), json={"active": True})
    assert on.status_code == 200
    assert api.client.post("/api/auth/login", json=login).status_code == 200
    # the last active admin cannot be switched off; nobody else may do any of this
    adm = api.client.put("/api/users/adm/active", headers=api.auth("adm"), json={"active": False})
    assert adm.status_code == 409 and "last active admin" in adm.json()["detail"]
    for who in ("sue", "lia"):
        assert api.post(f"/api/users/{ana}/revoke-tokens", who).status_code == 403
    trail = api.get(
        "/api/audit/events", "adm", params={"entity": "user", "entity_id": api.user_ids["bob"]}
    ).json()["events"]
    actions = [e["action"] for e in trail]
    assert actions[:3] == ["auth.login", "user.activate", "auth.login_failed"]
    assert "user.deactivate" in actions
