"""The audit log's pages (the `audit` blueprint): the event list with its filters and CSV, an
event with its inclusion proof, the checkpoints. Above policy, whose record rules decide which
events a reader sees (restrict_audit_events), while policy and every package that records an
event need only the log itself (lms/audit).
"""
