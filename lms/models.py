"""Every model, imported in one place for Alembic and the test suite."""
from lms.accounts.models import LoginSession, Organisation, SetPasswordToken, User  # noqa: F401
from lms.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditPersonal, ProbeTally  # noqa: F401
from lms.learning.models import (  # noqa: F401
    Course, CourseAsset, CourseVersion, JobAid, Lesson, LessonProgress, Quiz, QuizVersion,
)
from lms.assessment.models import Answer, Attempt  # noqa: F401
from lms.certification.models import Assignment, Award, Enrolment, Programme, ProgrammeVersion, Recertification  # noqa: F401,E501
from lms.reminders.models import Message  # noqa: F401
from lms.evidence.models import Certificate  # noqa: F401
from lms.credentials.models import OpenBadge  # noqa: F401
from lms.authoring.models import Draft, DraftImage  # noqa: F401
from lms.evidence.branding import Branding  # noqa: F401
from lms.privacy.requests import DataRequest  # noqa: F401
from lms.jobs.models import Job, JobFile  # noqa: F401
from lms.mfa.models import Passkey, RecoveryCode, TotpFactor, WebAuthnChallenge  # noqa: F401
from lms.privacy.breaches import Breach  # noqa: F401
from lms.xapi.models import XapiStatement  # noqa: F401
from lms.sso.models import SsoConnection, SsoIdentity  # noqa: F401
from lms.scim.models import ScimGroup, ScimGroupMember, ScimToken  # noqa: F401
from lms.api.models import ApiKey, ApiUsageTally  # noqa: F401
from lms.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent  # noqa: F401
