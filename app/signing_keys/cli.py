from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.signing_keys import services


def _asymmetric_settings() -> tuple[Path, str]:
    if not services.is_asymmetric(current_app):
        raise click.ClickException("JWT_ALGORITHM is HS256: there are no signing keys to manage")
    return services.keys_file(current_app), current_app.config["JWT_ALGORITHM"]


@click.command("rotate-signing-key")
@click.option(
    "--now",
    "at_once",
    is_flag=True,
    help="Sign with the new key at once (a leaked key): verifiers that cached the JWKS "
    "refuse new tokens until they fetch it again.",
)
@with_appcontext
def rotate_signing_key(at_once: bool) -> None:
    """Add a signing key: published in the JWKS now, signing after
    JWT_KEY_ACTIVATION_DELAY_SECONDS (longer than verifiers cache the JWKS)."""
    path, algorithm = _asymmetric_settings()
    delay = 0 if at_once else current_app.config["JWT_KEY_ACTIVATION_DELAY_SECONDS"]
    key = services.add_key(path, algorithm, delay)
    when = key.not_before.isoformat() if key.not_before else "now"
    click.echo(f"Added {algorithm} key {key.kid} to {path}; it signs from {when}.")


@click.command("retire-signing-key")
@click.argument("kid")
@click.option("--force", is_flag=True, help="Retire even though tokens it signed are still valid.")
@with_appcontext
def retire_signing_key(kid: str, force: bool) -> None:
    """Remove a signing key once the tokens it signed have expired: they stop verifying.

    A kid may start with '-': put `--` before it (`flask retire-signing-key -- -AbC…`).
    """
    path, algorithm = _asymmetric_settings()
    config = current_app.config
    lifetime = max(config["ACCESS_TOKEN_EXPIRES_SECONDS"], config["SDK_TOKEN_EXPIRES_SECONDS"])
    try:
        services.retire_key(path, algorithm, kid, lifetime, force)
    except services.RetireRefusedError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Retired key {kid}; tokens it signed no longer verify.")


@click.command("signing-keys")
@with_appcontext
def list_signing_keys() -> None:
    """List the signing keys: kid, since when each signs, and which one signs now."""
    _asymmetric_settings()
    ring = services.key_ring()
    signer = ring.signer()
    for key in ring.all_keys():
        since = key.not_before.isoformat() if key.not_before else "added"
        marker = "  (signing)" if key.kid == signer.kid else ""
        click.echo(f"{key.kid}  not_before={since}{marker}")


@click.command("ensure-signing-key")
@with_appcontext
def ensure_signing_key() -> None:
    """`make run`: with ES256/EdDSA and no key file yet, create one with a first key."""
    if not services.is_asymmetric(current_app):
        return
    path, algorithm = _asymmetric_settings()
    if path.exists():
        click.echo(f"Signing keys: {path}.")
        return
    key = services.add_key(path, algorithm, 0)
    click.echo(f"Created a development {algorithm} signing key {key.kid} in {path}.")
