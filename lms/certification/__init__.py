"""Certification programmes, assignments, enrolments, status over time, and awards."""
