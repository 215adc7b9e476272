"""Rules: declarations (TOML), rule kinds and the evaluation engine."""
