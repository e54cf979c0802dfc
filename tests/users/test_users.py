import uuid

import pytest
from flask_migrate import upgrade

from app.developers import services as developers
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD

USERS = "/api/v1/users"


def create(client, headers, **fields):
    return client.post(USERS, json=fields, headers=headers)


def test_create_user_returns_201_with_every_field(client, admin_headers):
    response = create(
        client,
        admin_headers,
        email="Runner@Example.com",
        first_name="Kip",
        last_name="Choge",
        external_user_id="crm-42",
    )

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "email", "first_name", "last_name", "external_user_id", "created_at"}
    assert uuid.UUID(body["id"])
    assert body["email"] == "runner@example.com"
    assert body["external_user_id"] == "crm-42"
    assert body["created_at"].endswith("Z")


def test_every_field_is_optional(client, admin_headers):
    response = create(client, admin_headers)

    assert response.status_code == 201
    assert response.get_json()["email"] is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"email": "a@example.com"}, {"email": "A@EXAMPLE.com"}),
        ({"external_user_id": "x1"}, {"external_user_id": "x1"}),
    ],
)
def test_duplicates_are_409(client, admin_headers, first, second):
    assert create(client, admin_headers, **first).status_code == 201

    response = create(client, admin_headers, **second)

    assert response.status_code == 409
    assert "already exists" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "fields",
    [{"email": "not-an-email"}, {"first_name": "x" * 101}, {"external_user_id": ""}, {"id": "x"}],
)
def test_invalid_fields_are_422(client, admin_headers, fields):
    response = create(client, admin_headers, **fields)

    assert response.status_code == 422
    assert response.get_json()["errors"]


def address_of_length(length: int, domain_label: str = "b" * 40) -> str:
    domain = ".".join([domain_label] * 4) + ".com"
    return "a" * (length - 1 - len(domain)) + "@" + domain


# "İ" lowercases to two code points: 254 characters as sent, 258 as stored.
GROWS_WHEN_LOWERCASED = address_of_length(254, "İ" + "b" * 40)


def test_an_address_too_long_once_lowercased_is_422(client, admin_headers):
    created = create(client, admin_headers, email=GROWS_WHEN_LOWERCASED)
    user = create(client, admin_headers).get_json()
    patched = client.patch(
        f"{USERS}/{user['id']}", json={"email": GROWS_WHEN_LOWERCASED}, headers=admin_headers
    )

    for response in (created, patched):
        assert response.status_code == 422
        assert "email" in response.get_json()["errors"]
    listed = client.get(USERS, headers=admin_headers).get_json()
    assert [u["email"] for u in listed["items"]] == [None]


def test_an_address_of_254_characters_is_stored_whole(client, admin_headers):
    address = address_of_length(254)

    response = create(client, admin_headers, email=address.upper())

    assert response.status_code == 201
    assert response.get_json()["email"] == address


def test_get_patch_delete(client, admin_headers):
    user = create(client, admin_headers, email="a@example.com").get_json()
    url = f"{USERS}/{user['id']}"

    assert client.get(url, headers=admin_headers).get_json() == user
    patched = client.patch(url, json={"first_name": "Ann"}, headers=admin_headers)
    assert patched.status_code == 200
    assert patched.get_json()["first_name"] == "Ann"
    assert patched.get_json()["email"] == "a@example.com"

    assert client.delete(url, headers=admin_headers).status_code == 204
    missing = client.get(url, headers=admin_headers)
    assert missing.status_code == 404
    assert missing.get_json() == {"detail": "User not found."}


def test_patch_to_a_taken_email_is_409(client, admin_headers):
    create(client, admin_headers, email="a@example.com")
    other = create(client, admin_headers, email="b@example.com").get_json()

    response = client.patch(
        f"{USERS}/{other['id']}", json={"email": "a@example.com"}, headers=admin_headers
    )

    assert response.status_code == 409


@pytest.mark.parametrize(
    "bad_id", ["not-a-uuid", "123", pytest.param(str(uuid.uuid4()), id="unknown-uuid")]
)
def test_bad_or_unknown_ids_are_404_never_500(client, admin_headers, bad_id):
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(f"{USERS}/{bad_id}", headers=admin_headers, json={})
        assert response.status_code == 404, method
        assert "detail" in response.get_json()


def test_list_paginates_newest_first(client, admin_headers):
    ids = [
        create(client, admin_headers, external_user_id=f"u{i}").get_json()["id"] for i in range(5)
    ]

    first = client.get(f"{USERS}?limit=2", headers=admin_headers).get_json()
    last = client.get(f"{USERS}?limit=2&page=3", headers=admin_headers).get_json()

    assert set(first) == {"items", "total", "page", "limit", "pages", "has_next", "has_prev"}
    assert [u["id"] for u in first["items"]] == ids[::-1][:2]
    assert (first["total"], first["pages"], first["has_next"], first["has_prev"]) == (
        5,
        3,
        True,
        False,
    )
    assert [u["id"] for u in last["items"]] == [ids[0]]
    assert (last["has_next"], last["has_prev"]) == (False, True)


def test_list_filters_and_search(client, admin_headers):
    create(client, admin_headers, email="ann@example.com", first_name="Ann", external_user_id="e1")
    create(client, admin_headers, email="bob@example.com", last_name="Annesley")
    create(client, admin_headers, email="cy@example.com", external_user_id="100%")

    def emails(query):
        body = client.get(f"{USERS}?{query}", headers=admin_headers).get_json()
        return sorted(u["email"] for u in body["items"])

    assert emails("search=ann") == ["ann@example.com", "bob@example.com"]
    assert emails("email=ANN@example.com") == ["ann@example.com"]
    assert emails("external_user_id=e1") == ["ann@example.com"]
    assert emails("search=100%25") == ["cy@example.com"]
    assert emails("search=%25") == ["cy@example.com"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "page=0", "limit=abc", "page=1000001", f"page={10**22}"],
)
def test_bad_paging_is_422(client, admin_headers, query):
    response = client.get(f"{USERS}?{query}", headers=admin_headers)

    assert response.status_code == 422


def test_users_need_credentials(client):
    assert client.get(USERS).status_code == 401
    assert client.post(USERS, json={}).status_code == 401


def test_the_deepest_page_is_empty_not_an_error(client, admin_headers):
    response = client.get(f"{USERS}?page=1000000&limit=100", headers=admin_headers)

    assert response.status_code == 200
    assert response.get_json()["items"] == []


@pytest.fixture(params=["postgresql", "sqlite"])
def any_backend(request, client, admin_headers, make_app, tmp_path):
    """(client, headers) on the test PostgreSQL database, or on a fresh SQLite file."""
    if request.param == "postgresql":
        return client, admin_headers
    embedded = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'users.sqlite3'}", REDIS_URL="")
    with embedded.app_context():
        upgrade()
        developers.create_developer(ADMIN_EMAIL, ADMIN_PASSWORD)
    sqlite_client = embedded.test_client()
    token = login(sqlite_client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"]
    return sqlite_client, bearer(token)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("_", ["under_score@example.com"]),
        ("%", ["percent@example.com"]),
        ("\\", ["backslash@example.com"]),
        ("a_b", ["under_score@example.com"]),
        ("5%o", ["percent@example.com"]),
        ("x\\y", ["backslash@example.com"]),
        ("/", ["slash@example.com"]),
    ],
)
def test_search_treats_wildcards_and_escapes_literally(any_backend, search, expected):
    client, headers = any_backend
    create(client, headers, email="under_score@example.com", external_user_id="a_b")
    create(client, headers, email="percent@example.com", external_user_id="5%off")
    create(client, headers, email="backslash@example.com", external_user_id="x\\y")
    create(client, headers, email="slash@example.com", external_user_id="a/b")
    create(client, headers, email="plain@example.com", external_user_id="axb")

    body = client.get(USERS, query_string={"search": search}, headers=headers).get_json()

    assert sorted(user["email"] for user in body["items"]) == expected
