"""Storage: the protocol every backend implements, and the built-in memory and SQLite backends."""
