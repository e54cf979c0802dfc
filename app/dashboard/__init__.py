"""The admin dashboard: an HTML shell and static ES modules, same origin as the API."""
