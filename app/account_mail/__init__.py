"""Transactional account mail (invitations, password resets) through an outbox of its own.

Unlike alerts, a mail goes only to its addressee (never `ALERT_EMAIL_TO`, never the
webhook). The link's token is stored only encrypted (Fernet, key derived from
`SECRET_KEY`) in the outbox row, and erased once the mail is sent.
"""
