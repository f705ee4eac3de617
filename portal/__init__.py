"""The retailer's order portal core: domain, services, persistence, supplier client, HTTP API."""
