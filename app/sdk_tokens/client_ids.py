"""The client an SDK session belongs to: an application's `app_id`, or
`admin:{developer_id}` when a developer minted the token with their own token.

The refresh-token family and the token's `app_id` claim carry it; these two helpers
are the only places that write or read the admin form.
"""

ADMIN_PREFIX = "admin:"


def admin_client_id(developer_id: str) -> str:
    return f"{ADMIN_PREFIX}{developer_id}"


def admin_developer_id(client_id: str | None) -> str | None:
    """The developer who minted as admin, or None for an application's client id."""
    if client_id is None or not client_id.startswith(ADMIN_PREFIX):
        return None
    return client_id.removeprefix(ADMIN_PREFIX)
