"""Team invitations: a developer invites a colleague by e-mail; the link creates their account."""
