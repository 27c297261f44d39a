"""E-mail reminders: due soon, expiring, overdue, and a weekly digest per organisation.

`flask --app wsgi lms reminders send` runs daily. It decides whom to remind
from the certification status SQL, writes each message to the outbox (a
unique dedupe key makes a second run the same day insert nothing), then
delivers what is still pending over SMTP, or to the log when MAIL_SERVER is
not set.
"""
