"""YAML read with line numbers, and the field checks that report `path:line: message` problems.

The toolkit under the content format (lms/content) and the question types (lms/question_types),
which check their own items with it. Nothing here knows a course, a quiz or a type.
"""
