"""Asymmetric signing keys of access JWTs: the key file, rotation, and the JWKS."""
