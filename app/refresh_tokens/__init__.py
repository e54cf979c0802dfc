"""Opaque, single-use, rotating refresh tokens for any subject (developers, end users).

A login or an SDK-token mint starts a family; each refresh consumes one token and
issues its successor in the same family. Presenting a consumed token again means it
leaked: the whole family, and every access token minted from it, is revoked.
"""
