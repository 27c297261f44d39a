"""The clearance API (/api/v1): may an agent take live calls now? For workforce-management and
telephony tools, authenticated by per-integration API keys (lms/api/keys.py), never by a session."""
