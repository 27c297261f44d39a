"""Background jobs: long work (bulk exports, later reminders and retention) with stored state.

A job is a row (kind, parameters, state, progress, error, attempts) and, once it has
succeeded, its output files. Job code sees only a small `JobContext`; which thread or
process runs it is the runner's business (lms/jobs/runner.py).
"""
