"""A plugin that cannot be imported, like one whose dependency is not installed."""

raise ImportError("cp_broken_plugin needs the 'frobnicate' package, which is not installed")
