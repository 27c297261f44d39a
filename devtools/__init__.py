"""Development-only tools, outside the product package: the app never imports them.

`flask --app wsgi lms demo` loads them inside the command (lms/cli.py), so a production install
may leave this directory out.
"""
