"""Accounts over the JSON API: register, login, refresh rotation, logout, profile, roles, suspension."""

from __future__ import annotations

from app.blueprints.auth import services
from app.models import User

from ..support.factories import DEFAULT_PASSWORD, make_user


def register(client, **overrides):
    body = {"email": "Ana@Example.com", "password": "a-long-password", "name": "Ana", "role": "guest", **overrides}
    return client.post("/api/v1/register", json=body)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


def test_register_guest_returns_user_and_tokens(client):
    response = register(client)
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["email"] == "ana@example.com"
    assert body["user"]["role"] == "guest"
    assert set(body["user"]) >= {"id", "email", "name", "role", "phone", "bio", "avatar_url", "preferred_currency",
                                 "preferred_language", "created_at"}
    assert body["user"]["created_at"].endswith("Z")
    assert body["access_token"] and body["refresh_token"]
    me = client.get("/api/v1/profile", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.get_json()["id"] == body["user"]["id"]


def test_register_host_gets_host_role(client):
    assert register(client, role="host").get_json()["user"]["role"] == "host"


def test_register_stores_argon2id_hash_not_password(client, app):
    register(client)
    user = User.query.filter_by(email="ana@example.com").one()
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "a-long-password" not in user.password_hash


def test_register_same_email_other_case_is_email_taken(client):
    assert register(client).status_code == 201
    assert_error(register(client, email="ANA@example.COM"), 409, "email_taken")


def test_register_rejects_admin_role_short_password_bad_email(client):
    assert "role" in assert_error(register(client, role="admin"), 422, "validation_error")["fields"]
    assert "password" in assert_error(register(client, password="short"), 422, "validation_error")["fields"]
    assert "email" in assert_error(register(client, email="not-an-email"), 422, "validation_error")["fields"]


def test_register_missing_fields_and_wrong_types_are_422(client):
    error = assert_error(client.post("/api/v1/register", json={}), 422, "validation_error")
    assert {"email", "password", "name"} <= set(error["fields"])
    error = assert_error(register(client, email=123, name=["x"]), 422, "validation_error")
    assert {"email", "name"} <= set(error["fields"])


def test_register_huge_strings_are_422(client):
    error = assert_error(register(client, name="n" * 10_000, email="a" * 10_000 + "@x.com"), 422, "validation_error")
    assert {"name", "email"} <= set(error["fields"])
    assert_error(register(client, password="p" * 10_000), 422, "validation_error")


def test_register_accented_lookalike_is_a_different_account(client):
    assert register(client, email="bo@example.com").status_code == 201
    assert register(client, email="bö@example.com").status_code == 201
    wrong = client.post("/api/v1/login", json={"email": "bo@exámple.com", "password": "a-long-password"})
    assert_error(wrong, 401, "invalid_credentials")


def test_deeply_nested_json_is_400(client):
    response = client.post("/api/v1/login", data="[" * 100_000, content_type="application/json")
    assert_error(response, 400, "bad_request")


def test_lone_surrogate_in_json_is_400(client):
    body = '{"email": "a@example.com", "password": "\\ud800-long-password", "name": "\\udfff"}'
    assert_error(client.post("/api/v1/register", data=body, content_type="application/json"), 400, "bad_request")


def test_register_malformed_json_is_400(client):
    response = client.post("/api/v1/register", data="{not json", content_type="application/json")
    assert_error(response, 400, "bad_request")


def test_register_json_array_body_is_422(client):
    assert_error(client.post("/api/v1/register", json=["a"]), 422, "validation_error")


def test_register_form_encoded_body_is_415(client):
    response = client.post("/api/v1/register", data={"email": "a@b.co"})
    assert_error(response, 415, "unsupported_media_type")


def test_login_returns_tokens_and_user(client, app):
    make_user(email="bo@example.com")
    response = client.post("/api/v1/login", json={"email": "BO@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["email"] == "bo@example.com" and body["access_token"] and body["refresh_token"]


def test_login_wrong_password_and_unknown_email_answer_alike(client, app):
    make_user(email="bo@example.com")
    wrong = client.post("/api/v1/login", json={"email": "bo@example.com", "password": "wrong-password"})
    unknown = client.post("/api/v1/login", json={"email": "nobody@example.com", "password": "wrong-password"})
    assert assert_error(wrong, 401, "invalid_credentials")["message"] == \
        assert_error(unknown, 401, "invalid_credentials")["message"]


def test_login_suspended_account_is_403(client, app):
    make_user(email="bo@example.com", is_active=False)
    response = client.post("/api/v1/login", json={"email": "bo@example.com", "password": DEFAULT_PASSWORD})
    assert_error(response, 403, "account_suspended")


def _login(client, email="bo@example.com"):
    return client.post("/api/v1/login", json={"email": email, "password": DEFAULT_PASSWORD}).get_json()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_refresh_rotates_and_old_refresh_token_is_refused(client, app):
    make_user(email="bo@example.com")
    first = _login(client)
    rotated = client.post("/api/v1/token/refresh", headers=_bearer(first["refresh_token"]))
    assert rotated.status_code == 200
    pair = rotated.get_json()
    assert pair["refresh_token"] != first["refresh_token"] and pair["access_token"]
    assert client.get("/api/v1/profile", headers=_bearer(pair["access_token"])).status_code == 200
    assert_error(client.post("/api/v1/token/refresh", headers=_bearer(first["refresh_token"])), 401, "unauthorized")


def test_refresh_reuse_revokes_whole_family(client, app):
    make_user(email="bo@example.com")
    first = _login(client)
    second = client.post("/api/v1/token/refresh", headers=_bearer(first["refresh_token"])).get_json()
    client.post("/api/v1/token/refresh", headers=_bearer(first["refresh_token"]))  # a thief replays the old one
    assert_error(client.post("/api/v1/token/refresh", headers=_bearer(second["refresh_token"])), 401, "unauthorized")
    assert_error(client.get("/api/v1/profile", headers=_bearer(second["access_token"])), 401, "unauthorized")


def test_refresh_reuse_leaves_other_sessions_alive(client, app):
    make_user(email="bo@example.com")
    phone, laptop = _login(client), _login(client)
    client.post("/api/v1/token/refresh", headers=_bearer(phone["refresh_token"]))
    client.post("/api/v1/token/refresh", headers=_bearer(phone["refresh_token"]))
    assert client.get("/api/v1/profile", headers=_bearer(laptop["access_token"])).status_code == 200


def test_refresh_with_access_token_is_401(client, app):
    make_user(email="bo@example.com")
    assert_error(client.post("/api/v1/token/refresh", headers=_bearer(_login(client)["access_token"])), 401,
                 "unauthorized")


def test_logout_revokes_access_and_refresh_tokens(client, app):
    make_user(email="bo@example.com")
    pair = _login(client)
    assert client.post("/api/v1/logout", headers=_bearer(pair["access_token"])).status_code == 204
    assert_error(client.get("/api/v1/profile", headers=_bearer(pair["access_token"])), 401, "unauthorized")
    assert_error(client.post("/api/v1/token/refresh", headers=_bearer(pair["refresh_token"])), 401, "unauthorized")


def test_logout_survives_restart(make_app):
    first = make_app()
    make_user(email="bo@example.com")
    pair = _login(first.test_client())
    first.test_client().post("/api/v1/logout", headers=_bearer(pair["access_token"]))
    restarted = make_app()  # a new process: nothing in memory carries over
    client = restarted.test_client()
    assert_error(client.get("/api/v1/profile", headers=_bearer(pair["access_token"])), 401, "unauthorized")
    assert_error(client.post("/api/v1/token/refresh", headers=_bearer(pair["refresh_token"])), 401, "unauthorized")


def test_suspended_user_tokens_stop_on_next_request(client, app):
    user = make_user(email="bo@example.com")
    pair = _login(client)
    services.set_active(user, False)
    assert_error(client.get("/api/v1/profile", headers=_bearer(pair["access_token"])), 403, "account_suspended")
    assert_error(client.post("/api/v1/token/refresh", headers=_bearer(pair["refresh_token"])), 403,
                 "account_suspended")
    services.set_active(user, True)  # reinstated: old tokens stay dead, a new login works
    assert_error(client.get("/api/v1/profile", headers=_bearer(pair["access_token"])), 401, "unauthorized")
    assert_error(client.post("/api/v1/token/refresh", headers=_bearer(pair["refresh_token"])), 401, "unauthorized")
    fresh = _login(client)
    assert client.get("/api/v1/profile", headers=_bearer(fresh["access_token"])).status_code == 200


def test_profile_requires_token(client):
    assert_error(client.get("/api/v1/profile"), 401, "unauthorized")
    assert_error(client.get("/api/v1/profile", headers=_bearer("garbage")), 401, "unauthorized")


def test_profile_patch_updates_allowed_fields_only(client, app, auth_headers):
    user = make_user(email="bo@example.com")
    allowed = {"name": "Bo Diddley", "phone": "+44 20 7946 0958", "bio": "Loves trains.", "preferred_currency": "EUR",
               "preferred_language": "fr"}
    refused = client.patch("/api/v1/profile", headers=auth_headers(user), json={
        **allowed, "email": "hacker@example.com", "role": "admin", "password": "x" * 12})
    error = assert_error(refused, 422, "validation_error")
    assert error["fields"] == {name: ["Unknown field."] for name in ("email", "password", "role")}
    assert client.get("/api/v1/profile", headers=auth_headers(user)).get_json()["name"] != "Bo Diddley"
    response = client.patch("/api/v1/profile", headers=auth_headers(user), json=allowed)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["phone"], body["bio"]) == ("Bo Diddley", "+44 20 7946 0958", "Loves trains.")
    assert (body["preferred_currency"], body["preferred_language"]) == ("EUR", "fr")
    assert (body["email"], body["role"]) == ("bo@example.com", "guest")
    login = client.post("/api/v1/login", json={"email": "bo@example.com", "password": DEFAULT_PASSWORD})
    assert login.status_code == 200


def test_profile_phone_is_encrypted_at_rest(client, app, auth_headers):
    from app.extensions import db

    user = make_user(email="bo@example.com")
    client.patch("/api/v1/profile", headers=auth_headers(user), json={"phone": "+1 555 0100"})
    stored = db.session.execute(db.text("SELECT phone FROM users WHERE id = :id"), {"id": user.id}).scalar()
    assert stored and "555" not in stored


def test_profile_patch_invalid_values_are_422_and_change_nothing(client, app, auth_headers):
    user = make_user(email="bo@example.com", name="Bo")
    response = client.patch("/api/v1/profile", headers=auth_headers(user), json={
        "name": "Bobby", "preferred_currency": "XYZ", "preferred_language": "klingon", "phone": "call me"})
    error = assert_error(response, 422, "validation_error")
    assert {"preferred_currency", "preferred_language", "phone"} <= set(error["fields"])
    assert client.get("/api/v1/profile", headers=auth_headers(user)).get_json()["name"] == "Bo"


def test_profile_patch_wrong_types_and_huge_bio_are_422(client, app, auth_headers):
    user = make_user()
    error = assert_error(client.patch("/api/v1/profile", headers=auth_headers(user),
                                      json={"name": 5, "bio": "b" * 10_000}), 422, "validation_error")
    assert {"name", "bio"} <= set(error["fields"])


def test_become_host_turns_guest_into_host(client, app, auth_headers):
    user = make_user()
    response = client.post("/api/v1/profile/become-host", headers=auth_headers(user))
    assert response.status_code == 200 and response.get_json()["role"] == "host"


def test_become_host_keeps_admin_an_admin(client, app, auth_headers):
    admin = make_user(role="admin")
    assert client.post("/api/v1/profile/become-host", headers=auth_headers(admin)).get_json()["role"] == "admin"


def test_create_admin_command_creates_admin_who_can_log_in(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "Root@Example.com", "--password",
                                                "super-secret-pass"])
    assert result.exit_code == 0, result.output
    user = User.query.filter_by(email="root@example.com").one()
    assert user.role == "admin"
    assert services.authenticate(email="root@example.com", password="super-secret-pass").id == user.id


def test_create_admin_command_rejects_short_password(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "root@example.com", "--password", "short"])
    assert result.exit_code != 0 and "at least 10" in result.output


def test_profile_patch_blank_phone_and_bio_clear_them(client, app, auth_headers):
    user = make_user()
    headers = auth_headers(user)
    client.patch("/api/v1/profile", headers=headers, json={"phone": "+1 555 0100", "bio": "Hi"})
    response = client.patch("/api/v1/profile", headers=headers, json={"phone": " ", "bio": ""})
    assert response.status_code == 200 and (response.get_json()["phone"], response.get_json()["bio"]) == (None, None)
