"""The Teams edge: settings, the HTTP endpoint, the activity handler and its routing."""
