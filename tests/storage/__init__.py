"""Storage tests: one contract suite over every adapter, and the embedded store's own promises."""
