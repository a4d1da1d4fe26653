"""Waterfall dialogs: what to ask next, one dialog per file, versioned ids."""
