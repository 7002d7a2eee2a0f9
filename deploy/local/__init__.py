"""The embedded mode: everything on one machine (`make dev`)."""
