"""Facebook Pages and Instagram connectors: Meta Graph API through python-facebook-api."""
