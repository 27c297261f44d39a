"""Credentials that leave the app in standard forms: Open Badges 3.0 (VC-JWT) and the status list."""
