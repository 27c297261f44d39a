"""Learning that makes every kind of statement: lessons read, a quiz passed (with a call
simulation), a quiz failed, a certificate earned and revoked."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.certification import services as certification
from lms.certification.models import Award
from lms.clock import now, set_now
from lms.extensions import db
from lms.learning.models import Course, CourseVersion
from lms.learning.services import complete_lesson
from tests import factories
from tests.assessment.conftest import best_form, worst_form
from tests.certification.conftest import make_programme
from tests.certification.test_cycle import _take_quiz


def read_course(agent: User) -> None:
    version = db.session.scalar(select(CourseVersion).join(Course, Course.current_version_id == CourseVersion.id)
                                .where(Course.slug == "recording-calls"))
    for lesson in version.lessons:
        complete_lesson(agent, version, lesson)
    db.session.commit()


def learn_everything(quiz) -> tuple[User, User, Award]:
    """A passing agent who earns a certificate that a trainer then revokes, and a failing agent."""
    org = factories.organisation("Atlas Care")
    passing, failing = factories.user(Role.AGENT, org), factories.user(Role.AGENT, org)
    admin, trainer = factories.user(Role.ADMIN), factories.user(Role.TRAINER)
    certification.assign(admin, make_programme(), organisation_id=org.id, due_days=14)
    db.session.commit()
    read_course(passing)
    _take_quiz(passing, quiz, best_form)
    _take_quiz(failing, quiz, worst_form)
    award = db.session.scalars(select(Award).where(Award.user_id == passing.id)).one()
    set_now(now() + timedelta(hours=1))
    certification.revoke(trainer, award, "Shared answers with a colleague")
    db.session.commit()
    return passing, failing, award
