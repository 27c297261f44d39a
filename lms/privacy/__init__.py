"""The app's own GDPR duties as controller's tool: what it processes and why (processing.py),
access (access.py), erasure under a pseudonym (erasure.py), retention (retention.py)."""
