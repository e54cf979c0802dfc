"""RFC 7009 revocation and RFC 7662 introspection of access and refresh tokens."""
