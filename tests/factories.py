"""Plain helpers that create things through the public API, as a client would."""


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def create_user(client, headers, **fields) -> dict:
    response = client.post("/api/v1/users", json=fields, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def create_application(client, headers, name: str = "My Mobile App") -> dict:
    response = client.post("/api/v1/applications", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def mint_with_app(client, user_id: str, application: dict):
    return client.post(
        f"/api/v1/users/{user_id}/token",
        json={"app_id": application["app_id"], "app_secret": application["app_secret"]},
    )


def sdk_tokens_for(client, admin_headers, user_id: str) -> dict:
    """A fresh SDK token pair for `user_id`, minted with a new application."""
    response = mint_with_app(client, user_id, create_application(client, admin_headers))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def session_is_dead(client, pair: dict) -> bool:
    """Neither the pair's access token nor its refresh token works any more."""
    me = client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    return me.status_code == 401 and refresh.status_code == 401
