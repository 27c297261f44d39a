"""Quizzes as agents take them: attempts, question types, grading, call simulations."""
