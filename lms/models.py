"""Every model, imported in one place for Alembic and the test suite."""
from lms.accounts.models import LoginSession, Organisation, SetPasswordToken, User  # noqa: F401
from lms.audit.models import AuditEvent  # noqa: F401
from lms.learning.models import Course, CourseAsset, CourseVersion, JobAid, Lesson, Quiz, QuizVersion  # noqa: F401
