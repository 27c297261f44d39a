"""Course, quiz, job-aid and programme content as files: parse, validate, render.

The only code that reads courses/, quizzes/ and programmes/. Pure functions, no Flask app and
no database; see docs/content-format.md for the format. Each quiz item is checked and built by
its question type (lms/question_types), whose labels are Flask-Babel lazy strings: importing
them needs no app.
"""

from lms.checked_yaml import yaml_lines

from .markdown import render_markdown
from .model import ContentTree, Programme, Requirement
from .parser import Problem, parse_tree
from .reading import CheckedContent, read_content
from .validate import check_tree

__all__ = [
    "CheckedContent", "ContentTree", "Problem", "Programme", "Requirement", "check_tree",
    "parse_tree", "read_content", "render_markdown", "yaml_lines",
]
