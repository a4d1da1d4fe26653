"""The Teams app package: the manifest, its icons and the check against Microsoft's schema."""
