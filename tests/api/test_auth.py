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


def test_partner_may_log_in_but_reach_nothing(api: Api) -> None:
    r = api.client.post("/api/auth/login", json={"name": "pat", "password": api.passwords["pat"]})
    assert r.status_code == 200 and r.json()["role"] == "partner"
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert api.client.get("/api/auth/me", headers=headers).status_code == 403
    assert api.client.post("/api/auth/logout", headers=headers).status_code == 403
