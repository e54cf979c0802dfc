"""Developers: the platform's admins, who log in with e-mail and password."""
