"""Append-only audit events for every credential change and login."""
