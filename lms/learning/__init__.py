"""Courses, their immutable versions and lessons, quizzes' published versions, and job aids."""
