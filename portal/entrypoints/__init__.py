"""Entry points: the CLI and, later, the portal's HTTP API."""
