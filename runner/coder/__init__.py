"""Everything that talks to a Coder deployment: configuration, the HTTP client, typed models."""
