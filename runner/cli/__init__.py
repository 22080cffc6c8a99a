"""The `tasks` command line."""
