"""YouTube connector: comments, live chat and metrics through google-api-python-client."""
