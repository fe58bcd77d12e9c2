"""The `plenary` command line: serve, migrate, demo, user, import/export, follow, awards
render, backup/restore. It sits above the server and the stream client and imports them
when a command runs; nothing imports it."""
