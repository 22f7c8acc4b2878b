from __future__ import annotations

from datetime import datetime

from .conftest import Api


def test_login_me_logout(api: Api) -> None:
    r = api.client.post("/api/auth/login", json={"name": "ana", "password": api.passwords["ana"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "analyst"
    assert body["expires"].endswith("Z") and datetime.fromisoformat(body["expires"])
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = api.client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200 and me.json() == {
        "id": api.user_ids["ana"],
        "name": "ana",
        "role": "analyst",
    }
    assert api.client.post("/api/auth/logout", headers=headers).status_code == 204
    after = api.client.get("/api/auth/me", headers=headers)
    assert after.status_code == 401 and "log in again" in after.json()["detail"]
    assert api.get("/api/auth/me", "ana").status_code == 200  # other tokens still work


def test_login_failures(api: Api) -> None:
    for body in (
        {"name": "ana", "password": "wrong"},
        {"name": "nobody", "password": "x"},
    ):
        r = api.client.post("/api/auth/login", json=body)
        assert r.status_code == 401
        assert r.json() == {"detail": "wrong user name or password"}
    r = api.client.post("/api/auth/login", json={"name": "ana"})
    assert r.status_code == 422
    r = api.client.post("/api/auth/login", json={"name": "ana", "password": "x", "admin": True})
    assert r.status_code == 422


def test_partner_logs_in_and_out_but_reaches_no_staff_route(api: Api) -> None:
    r = api.client.post("/api/auth/login", json={"name": "pat", "password": api.passwords["pat"]})
    assert r.status_code == 200 and r.json()["role"] == "partner"
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert api.client.get("/api/auth/me", headers=headers).json()["name"] == "pat"
    assert api.client.get("/api/sites", headers=headers).status_code == 403
    assert api.client.post("/api/auth/logout", headers=headers).status_code == 204
    assert api.client.get("/api/auth/me", headers=headers).status_code == 401


def test_one_time_password_must_be_changed_first(api: Api) -> None:
    from plumetrace.store.engine import session_scope
    from plumetrace.store.users import add_user

    with session_scope(api.engine, write=True) as s:
        _user, once = add_user(s, "neo", "analyst", actor="test")
    login = api.client.post("/api/auth/login", json={"name": "neo", "password": once})
    assert login.status_code == 200 and login.json()["must_change_password"] is True
    hdr = {"Authorization": f"Bearer {login.json()['access_token']}"}
    blocked = api.client.get("/api/sites", headers=hdr)
    assert blocked.status_code == 403 and "/api/auth/password" in blocked.json()["detail"]
    short = {"old_password": once, "new_password": "short"}
    assert api.client.post("/api/auth/password", headers=hdr, json=short).status_code == 422
    wrong = {"old_password": "nope", "new_password": "a-long-new-secret"}
    assert api.client.post("/api/auth/password", headers=hdr, json=wrong).status_code == 401
    ok = {"old_password": once, "new_password": "a-long-new-secret"}
    assert api.client.post("/api/auth/password", headers=hdr, json=ok).status_code == 204
    assert api.client.get("/api/sites", headers=hdr).status_code == 401  # tokens ended
    again = api.client.post("/api/auth/login", json={"name": "neo", "password": once})
    assert again.status_code == 401
    fresh = api.client.post(
        "/api/auth/login", json={"name": "neo", "password": "a-long-new-secret"}
    ).json()
    assert fresh["must_change_password"] is False
    hdr = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert api.client.get("/api/sites", headers=hdr).status_code == 200


def test_login_is_throttled_after_failures(api: Api) -> None:
    app = api.client.app
    app.state.settings = app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"login_failures_per_user_client": 2}
    )
    wrong = {"name": "ana", "password": "wrong"}
    assert [api.client.post("/api/auth/login", json=wrong).status_code for _ in range(2)] == [
        401,
        401,
    ]  # each failure committed and counted, though the request failed
    right = {"name": "ana", "password": api.passwords["ana"]}
    r = api.client.post("/api/auth/login", json=right)
    assert r.status_code == 429 and r.json() == {
        "detail": "too many failed logins: try again in 15 min"
    }
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60 + 1
    other = api.client.post("/api/auth/login", json={"name": "bob", "password": "x"})
    assert other.status_code == 401  # another user from the same client is still checked
    trail = api.get(
        "/api/audit/events", "adm", params={"entity": "user", "entity_id": api.user_ids["ana"]}
    ).json()["events"]
    actions = [e["action"] for e in trail if e["action"].startswith("auth.")]
    assert actions == ["auth.login_throttled", "auth.login_failed", "auth.login_failed"]
    assert trail[1]["after"] == {"name": "ana", "client": "testclient", "known_user": True}
