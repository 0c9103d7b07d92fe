"""X (formerly Twitter) connector: API v2 through the official xdk SDK."""
