"""The simulated Chats API (Coder Agents): store, routes, agent behaviour and JSON shapes."""
