import click
from flask import current_app
from flask.cli import with_appcontext
from marshmallow import ValidationError

from app.core.schemas import EmailField
from app.developers import services
from app.developers.passwords import policy_violations


def checked_email(email: str, where: str) -> str:
    """The address as the API would store it, or the reason it would refuse it."""
    try:
        normalised: str = EmailField().deserialize(email)
    except ValidationError as error:
        raise click.BadParameter(" ".join(map(str, error.messages)), param_hint=where) from None
    return normalised


@click.command("create-admin")
@click.option("--email", prompt=True, help="The developer's e-mail (login name).")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="12 to 256 characters, not the e-mail, not a common password.",
)
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
@with_appcontext
def create_admin(email: str, password: str, first_name: str | None, last_name: str | None) -> None:
    """Create a developer (platform admin) account."""
    email = checked_email(email, "--email")
    violations = policy_violations(password, email)
    if violations:
        raise click.BadParameter(" ".join(violations), param_hint="--password")
    if services.find_by_email(email) is not None:
        raise click.ClickException(f"a developer with e-mail {email} already exists")
    developer = services.create_developer(email, password, first_name, last_name)
    click.echo(f"Created developer {developer.email} ({developer.id}).")


@click.command("ensure-admin")
@with_appcontext
def ensure_admin() -> None:
    """Ensure the admin from ADMIN_EMAIL/ADMIN_PASSWORD exists (or generate one)."""
    email = current_app.config["ADMIN_EMAIL"]
    developer, generated_password = services.ensure_admin(
        checked_email(email, "ADMIN_EMAIL") if email else email,
        current_app.config["ADMIN_PASSWORD"],
    )
    if generated_password:
        click.echo("Created an admin with a generated password (shown only this once):")
        click.echo(f"  ADMIN_EMAIL={developer.email}")
        click.echo(f"  ADMIN_PASSWORD={generated_password}")
    else:
        click.echo(f"Admin {developer.email} is ready.")
