import pytest

from app.developers import services
from tests.support.auth import login


def test_create_admin_with_flags(app, client):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "Dev@Example.com", "--password", "s3cret-passphrase"]
    )

    assert result.exit_code == 0, result.output
    assert "Created developer dev@example.com" in result.output
    assert login(client, "dev@example.com", "s3cret-passphrase").status_code == 200


def test_create_admin_prompts_for_missing_flags(app, client):
    result = app.test_cli_runner().invoke(
        args=["create-admin"], input="dev@example.com\nlong-password\nlong-password\n"
    )

    assert result.exit_code == 0, result.output
    assert login(client, "dev@example.com", "long-password").status_code == 200


def test_create_admin_refuses_duplicates_and_short_passwords(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-admin", "--email", "a@example.com", "--password", "long-enough-pw"])

    duplicate = runner.invoke(
        args=["create-admin", "--email", "A@example.com", "--password", "long-enough-pw"]
    )
    short = runner.invoke(args=["create-admin", "--email", "b@example.com", "--password", "x"])

    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output
    assert short.exit_code != 0
    assert "min_length" in short.output


@pytest.mark.parametrize(
    ("password", "rule"),
    [("b@example.com", "email"), ("password1234", "common"), ("x" * 257, "max_length")],
)
def test_create_admin_applies_the_password_policy(app, password, rule):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "b@example.com", "--password", password]
    )

    assert result.exit_code != 0
    assert rule in result.output


def test_ensure_admin_uses_configured_credentials_and_updates_the_password(make_app):
    app = make_app(ADMIN_EMAIL="boss@example.com", ADMIN_PASSWORD="first-password")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ensure-admin"]).exit_code == 0
    assert login(app.test_client(), "boss@example.com", "first-password").status_code == 200

    app.config["ADMIN_PASSWORD"] = "second-password"
    result = runner.invoke(args=["ensure-admin"])

    assert result.exit_code == 0
    assert "second-password" not in result.output
    assert login(app.test_client(), "boss@example.com", "second-password").status_code == 200


def test_ensure_admin_generates_and_prints_credentials_once(app, client):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["ensure-admin"])
    second = runner.invoke(args=["ensure-admin"])

    lines = dict(line.strip().split("=", 1) for line in first.output.splitlines() if "=" in line)
    assert lines["ADMIN_EMAIL"] == services.GENERATED_ADMIN_EMAIL
    assert login(client, lines["ADMIN_EMAIL"], lines["ADMIN_PASSWORD"]).status_code == 200
    assert "ADMIN_PASSWORD" not in second.output


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("not-an-address", id="no-at"),
        pytest.param("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 62, id="255-long"),
    ],
)
def test_create_admin_refuses_what_the_api_would_refuse(app, client, email):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", email, "--password", "s3cret-passphrase"]
    )

    assert result.exit_code == 2, result.output
    assert "--email" in result.output
    with app.app_context():
        assert services.find_by_email(email) is None


def test_ensure_admin_refuses_an_invalid_configured_address(make_app):
    app = make_app(ADMIN_EMAIL="boss-at-example.com", ADMIN_PASSWORD="first-password")

    result = app.test_cli_runner().invoke(args=["ensure-admin"])

    assert result.exit_code == 2, result.output
    assert "ADMIN_EMAIL" in result.output
    assert "Not a valid email address." in result.output
