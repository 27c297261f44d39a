"""Authoring in the browser: drafts of courses, quizzes and programmes, published as content.

A draft holds the very files of the content format (docs/content-format.md), so
editing in the browser and editing the files are two doors to the same format.
"""
