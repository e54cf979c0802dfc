"""API keys: long-lived server credentials with full access to users and their data."""
