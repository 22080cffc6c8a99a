"""A simulated Coder deployment: an HTTP server on loopback that follows the Tasks contract.

`runner.sim.server.SimServer` is the entry point (`tasks sim` and `--sim` use it). The rest:
`versions` (per-release behaviour), `status` (the pure status derivation), `workspace` and
`agent` (timelines read off timestamps), `directives` (the `[sim:…]` words that steer the
agent), `tasks` (the task store and routes' logic), `directory` (users, organizations,
templates), `routes`, `handler`, `auth`, `ratelimit` and `faults` (the HTTP side).
"""
