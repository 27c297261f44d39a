"""The `flask --app wsgi lms ...` commands. Each command commits once, at its end."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Organisation, OrganisationKind, Role, User
from lms.extensions import db


@click.group("lms")
def lms_cli() -> None:
    """CallSafe Academy administration."""


@lms_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value, show_default=True)
@click.option("--organisation", "organisation_name", required=True,
              help="Existing organisation; on an empty database it is created as the client company.")
@click.option("--country", default="", help="Two-letter country code, when the organisation is created.")
@click.password_option(prompt="Password (at least 8 characters)")
@with_appcontext
def create_user(email: str, name: str, role: str, organisation_name: str, country: str, password: str) -> None:
    """Create a user with a password: the way to make the first admin on a new database."""
    org = db.session.scalar(select(Organisation).where(Organisation.name == organisation_name))
    try:
        if org is None:
            if db.session.scalar(select(Organisation).limit(1)) is not None:
                names = ", ".join(db.session.scalars(select(Organisation.name)))
                raise click.ClickException(f"No organisation named {organisation_name!r}. Existing: {names}")
            if len(country) != 2:
                raise click.ClickException("Give --country (two letters) to create the client company.")
            org = accounts.save_organisation(None, accounts.OrganisationData(
                name=organisation_name, kind=OrganisationKind.CLIENT, country=country))
        user = accounts.create_user(None, accounts.UserData(email=email, name=name, role=Role(role),
                                                            organisation_id=org.id))
        accounts.set_password(None, user, password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} in {org.name}.")


@lms_cli.command("demo")
@click.option("--agents", type=click.IntRange(min=1), default=None,
              help="Also generate this many agents in ten organisations with 18 months of certification "
                   "history (once per database; needs the content loaded).")
@with_appcontext
def demo(agents: int | None) -> None:
    """Create the demo organisations and accounts (idempotent), certify the demo agent, print the logins
    and a demo API key."""
    import time

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Demo accounts are not created in production.")
    # Imported here, not at the top: devtools/ is development-only code outside the product
    # package, so the app (and production, which may not ship it) never loads it. The command
    # itself stays here, with the others, so `flask lms --help` lists it wherever it is useful.
    from devtools.bulk import BulkAlreadyGenerated, DemoError, generate_bulk
    from devtools.demo import DEMO_AGENT, DEMO_PASSWORD, certify_demo_agent, demo_api_key, ensure_demo_accounts
    from lms.addresses import external_url

    started = time.perf_counter()
    users = ensure_demo_accounts()
    report = None
    if agents:
        try:
            report = generate_bulk(agents)
        except BulkAlreadyGenerated as exc:
            click.echo(f"Note: {exc}")
        except DemoError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
    award = certify_demo_agent()
    key, token = demo_api_key()
    db.session.commit()  # the award's certificate job runs once this commits
    click.echo("Demo logins (password for all: %s)" % DEMO_PASSWORD)
    for user in users:
        scope = f", scoped to {user.scope_organisation.name}" if user.scope_organisation else ""
        click.echo(f"  {user.role.value:<13} {user.email:<36} {user.organisation.name}{scope}")
    if report is not None:
        click.echo(report.summary())
        click.echo(f"Bulk agents sign in with the same password. Generated and committed in "
                   f"{time.perf_counter() - started:.1f} s.")
    if award is not None:
        click.echo(f"{award.user.email} holds a certificate and an Open Badge of {award.programme_version.title} "
                   f"(code {award.verification_code}).")
    else:
        click.echo("No programme is loaded, so the demo agent holds no award: run `lms content load` first.")
    agent = next(user for user in users if user.email == DEMO_AGENT)
    url = external_url("api_v1.agent_clearance", agent=str(agent.id))
    click.echo(f"Demo API key {key.prefix} (clearance:read; shown once and stored hashed, so the next "
               f"`lms demo` rotates it):\n  curl -H 'Authorization: Bearer {token}' {url}")


@lms_cli.command("demo-receiver")
@click.option("--port", default=8765, show_default=True, help="The port to listen on (127.0.0.1).")
@with_appcontext
def demo_receiver(port: int) -> None:
    """Register a webhook endpoint for every event and print each delivery it receives (development).

    Run it beside `make run`; revoke the demo agent's award and the award.revoked event arrives
    within WEBHOOKS_SEND_SECONDS (30 s by default), or at once with `flask lms webhooks send`."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("The demo receiver is for development.")
    from devtools.webhook_receiver import Receiver, demo_endpoint  # development-only code, as in `demo`

    with Receiver(port, click.echo) as receiver:  # listening first: a busy port fails before anything is saved
        endpoint, receiver.secret = demo_endpoint(port)
        db.session.commit()
        click.echo(f"Webhook endpoint #{endpoint.id} ({endpoint.url}) registered for every event, company-wide.\n"
                   f"Listening; each delivery is verified with its signing secret. Ctrl-C to stop.")
        try:
            receiver.serve_forever()
        except KeyboardInterrupt:
            pass


@lms_cli.group("audit")
def audit_group() -> None:
    """The audit log: a Merkle tree of events with signed checkpoints."""


def _head(value: str) -> tuple[int, str]:
    size, _, digest = value.partition(":")
    if not size.isdigit() or len(digest) < 12 or any(c not in "0123456789abcdefABCDEF" for c in digest):
        raise click.BadParameter(f"{value!r}: give SIZE:ROOT, e.g. 99:6d5b6294572f (at least 12 hex digits)")
    return int(size), digest


@audit_group.command("verify")
@click.option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(exists=True, dir_okay=False,
                                                                                 path_type=Path),
              help="A file of signed checkpoints kept outside the database (AUDIT_CHECKPOINT_FILE, a saved "
                   "daily e-mail, `lms audit checkpoint --out`, or a transcript's or pack's JSON): the log must "
                   "still extend each of them. Repeatable.")
@click.option("--head", "heads", multiple=True, metavar="SIZE:ROOT",
              help="An unsigned tree head written down outside the database (`lms audit head`): the tree must "
                   "still have that root at that size. Repeatable.")
@with_appcontext
def audit_verify(checkpoint_files: tuple[Path, ...], heads: tuple[str, ...]) -> None:
    """Recompute every leaf and the root at every checkpoint, check the signatures; exit 1 naming the first bad leaf."""
    from lms.audit.checkpoints import notes_in
    from lms.audit.proofs import consistency_with
    from lms.audit.services import latest_checkpoint
    from lms.audit.verify import verify

    given = []
    for path in checkpoint_files:
        try:
            given.extend(notes_in(path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, ValueError) as exc:
            raise click.ClickException(f"{path}: {exc}") from None
    result = verify(external=given, heads=dict(_head(value) for value in heads))
    if not result.ok:
        where = f"leaf #{result.bad_leaf}" if result.bad_leaf is not None else f"event #{result.bad_seq}"
        if result.bad_leaf is not None and result.bad_seq is not None:
            where += f" (event #{result.bad_seq})"
        click.echo(f"Audit log broken at {where}: {result.reason}.", err=True)
        sys.exit(1)
    click.echo(f"Audit log intact: {result.leaves} leaves, {result.checkpoints} tree head(s) checked; "
               f"{result.pending} event(s) waiting to be sealed.")
    latest = latest_checkpoint()
    if given and latest is not None:
        oldest = min(given, key=lambda note: note.tree_size)
        proof, holds = consistency_with(oldest, latest)
        if not holds:  # verify() recomputed both roots, so this would be a bug in one of the two
            raise click.ClickException(f"the consistency proof from tree size {oldest.tree_size} to "
                                       f"{latest.tree_size} does not hold")
        click.echo(f"The log extends the {len(given)} given checkpoint(s): consistency proof from tree size "
                   f"{oldest.tree_size} to today's {latest.tree_size} checked ({len(proof)} hashes).")


@audit_group.command("seal")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Seal at most this many events.")
@with_appcontext
def audit_seal(limit: int | None) -> None:
    """Add the committed events to the tree, sign a checkpoint and append it to AUDIT_CHECKPOINT_FILE."""
    from lms.audit.publishing import seal_and_publish
    from lms.audit.sealing import SealError
    from lms.evidence.signing import SigningError

    try:
        result = seal_and_publish(limit)
    except (SealError, SigningError) as exc:
        raise click.ClickException(str(exc)) from None
    if result.busy:
        click.echo("Another sealer is running; nothing done.")
    elif result.checkpoint is None:
        click.echo(f"Nothing to seal; the tree has {result.tree_size} leaves.")
    else:
        click.echo(f"Sealed {result.sealed} event(s); the tree has {result.tree_size} leaves, "
                   f"root {result.checkpoint.root_hash}.")


@audit_group.command("checkpoint")
@click.option("--out", "out", type=click.File("w", encoding="utf-8"), default="-", show_default=True,
              help="Where to write the latest signed checkpoint ('-': standard output).")
@with_appcontext
def audit_checkpoint(out) -> None:
    """Write the latest signed checkpoint, to keep outside the database for `verify --checkpoint`."""
    from lms.audit.checkpoints import checkpoint_note
    from lms.audit.services import latest_checkpoint

    latest = latest_checkpoint()
    if latest is None:
        raise click.ClickException("The log has no checkpoint yet: run `flask --app wsgi lms audit seal`.")
    out.write(checkpoint_note(latest))


@audit_group.command("migrate-v1")
@with_appcontext
def audit_migrate_v1() -> None:
    """Check the v1 hash chain and seal its events as the tree's first leaves (once; later a no-op)."""
    from lms.audit.publishing import publish
    from lms.audit.sealing import SealError
    from lms.audit.v1 import V1ChainBroken, migrate_v1
    from lms.evidence.signing import SigningError

    try:
        result = migrate_v1()
    except (V1ChainBroken, SealError, SigningError) as exc:
        raise click.ClickException(f"{exc}. Nothing was converted.") from None
    try:
        publish()
    except (OSError, ValueError) as exc:
        click.echo(f"Warning: the checkpoint was not appended to AUDIT_CHECKPOINT_FILE: {exc}", err=True)
    if result.already_done:
        click.echo("The audit log is already a Merkle tree; nothing to migrate.")
    elif not result.checked:
        click.echo("No v1 audit chain to migrate.")
    else:
        click.echo(f"The v1 chain verified ({result.checked} events); sealed {result.sealed} event(s) "
                   "as the first leaves of the tree.")


@audit_group.command("head")
@with_appcontext
def audit_head() -> None:
    """Print the latest checkpoint as TREE-SIZE:ROOT-HASH."""
    from lms.audit.services import head

    size, root = head()
    click.echo(f"{size}:{root}")


@audit_group.command("flush-probes")
@with_appcontext
def audit_flush_probes() -> None:
    """Record the probe tallies of minutes already over as `security.probe` events (also runs by itself)."""
    from lms.audit.probes import record_closed

    written = record_closed(limit=100_000)
    db.session.commit()
    click.echo(f"{written} probe tally(ies) recorded in the audit log.")


@lms_cli.group("content")
def content_group() -> None:
    """Courses, quizzes and job aids from the content files."""


@content_group.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Count item-writing warnings as problems (exit 1 if any).")
@with_appcontext
def content_check(path: Path | None, strict: bool) -> None:
    """Report every problem in the content as path:line: message (exit 1 if any), then the
    item-writing warnings (exit 1 with --strict)."""
    from lms.content.validate import check_content

    root = path or current_app.config["CONTENT_ROOT"]
    problems, warnings = check_content(root)
    for problem in problems + warnings:
        click.echo(str(problem), err=True)
    if problems or (strict and warnings):
        click.echo(f"{len(problems)} problem(s) and {len(warnings)} warning(s) found"
                   f"{' (--strict counts warnings)' if strict and warnings else ''}.", err=True)
        sys.exit(1)
    click.echo(f"Content OK in {root}" + (f", with {len(warnings)} warning(s)." if warnings else "."))


@content_group.command("translations")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def content_translations(path: Path | None) -> None:
    """Each course, quiz, job aid and programme with its content hash (what a new translation's
    translation_of names) and the state of its translations in the files: current or stale."""
    from lms.content import read_content
    from lms.content.translations import is_current, source_of

    root = path or current_app.config["CONTENT_ROOT"]
    tree = read_content(root).tree
    translations: dict[tuple[str, str], list[str]] = {}
    for (kind, slug, language), translation in sorted(tree.translations.items()):
        source = source_of(tree, translation)
        state = "current" if source is not None and is_current(translation, source.content_hash) else "stale"
        translations.setdefault((kind, slug), []).append(f"{language} {state}")
    for kind, items in (("course", tree.courses), ("quiz", tree.quizzes), ("job_aid", tree.job_aids),
                        ("programme", tree.programmes)):
        for slug, item in sorted(items.items()):
            states = ", ".join(translations.get((kind, slug), [])) or "no translations"
            click.echo(f"{kind:<9} {slug:<50} {item.content_hash}  {states}")


@content_group.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--files-win", is_flag=True,
              help="Replace what was published in the browser with the files (by default it is kept and listed).")
@with_appcontext
def content_load(path: Path | None, files_win: bool) -> None:
    """Load the content into the database: all of it, or nothing when any file is bad."""
    from lms.learning.sync import ContentInvalid, load_content

    root = path or current_app.config["CONTENT_ROOT"]
    try:
        report = load_content(root, files_win=files_win)
    except ContentInvalid as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"Nothing was loaded: {len(exc.problems)} problem(s).", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(report.summary())


@content_group.command("export")
@click.argument("slug")
@click.option("--kind", type=click.Choice(["course", "quiz", "programme"]), default=None,
              help="Only this kind (default: every course, quiz and programme with that slug).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("export"),
              show_default=True, help="Content root to write into (courses/, quizzes/, programmes/).")
@with_appcontext
def content_export(slug: str, kind: str | None, out: Path) -> None:
    """Write the published version of SLUG as content files, in the exact format content load reads."""
    from lms.audit.services import record
    from lms.authoring.export import published_item, version_files

    written = []
    for each in [kind] if kind else ["course", "quiz", "programme"]:
        item = published_item(each, slug)
        if item is None or item.current_version is None:
            continue
        for path, data in version_files(each, item.current_version).items():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
            written.append(path)
        record("content.exported", target=item.current_version, kind=each, slug=slug,
               content_hash=item.current_version.content_hash)
    if not written:
        raise click.ClickException(f"Nothing published is called {slug!r}.")
    db.session.commit()
    for path in written:
        click.echo(f"  {out / path}")
    click.echo(f"Exported {len(written)} file(s) to {out}.")


@lms_cli.group("attempts")
def attempts_group() -> None:
    """Quiz attempts."""


@attempts_group.command("close-overdue")
@with_appcontext
def attempts_close_overdue() -> None:
    """Close attempts past their time limit, grading the answers saved before it (run from cron)."""
    from lms.assessment.services import close_overdue_attempts

    closed = close_overdue_attempts()
    db.session.commit()
    click.echo(f"Closed {closed} overdue attempt(s).")


@attempts_group.command("regrade")
@click.argument("quiz_slug")
@click.option("--apply", "apply_", is_flag=True, help="Store the new grades (without it, only list changes).")
@click.option("--reason", default="", help="Why the grades change, for the audit log (required with --apply).")
@with_appcontext
def attempts_regrade(quiz_slug: str, apply_: bool, reason: str) -> None:
    """Regrade a quiz's finished attempts with its current answer key; list pass/fail changes."""
    from lms.assessment.regrade import apply_regrade, plan_regrade
    from lms.learning.models import Quiz

    if apply_ and not reason.strip():
        raise click.UsageError("--apply needs --reason: the audit log records why the grades changed.")
    quiz = db.session.scalar(select(Quiz).where(Quiz.slug == quiz_slug))
    if quiz is None or quiz.current_version is None:
        raise click.ClickException(f"No quiz {quiz_slug!r}.")
    changes = apply_regrade(None, quiz, reason) if apply_ else plan_regrade(quiz)
    if apply_:
        db.session.commit()
    verb = "changed" if apply_ else "would change"
    click.echo(f"{len(changes)} attempt(s) {verb} score with version {quiz.current_version.content_hash[:12]}; "
               f"{sum(c.outcome_changes for c in changes)} between pass and fail.")
    for change in changes:
        flag = "  PASS/FAIL CHANGES" if change.outcome_changes else ""
        click.echo(f"  attempt #{change.attempt.id} {change.attempt.user.email}: "
                   f"{change.old_percent}% -> {change.new_percent}%{flag}")
    if changes and not apply_:
        click.echo("Nothing was changed. Run again with --apply to store the new grades.")


@lms_cli.group("certification")
def certification_group() -> None:
    """Programmes, enrolments and awards."""


@certification_group.command("sync-enrolments")
@with_appcontext
def certification_sync_enrolments() -> None:
    """Enrol agents in the programmes assigned to their organisation (run after bulk imports)."""
    from lms.certification.services import sync_enrolments

    created = sync_enrolments()
    db.session.commit()
    click.echo(f"{created} enrolment(s) created.")


@certification_group.command("require-recertification")
@click.option("--course", "course_slug", required=True, help="The course that changed materially.")
@click.option("--by", "required_by", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Date (YYYY-MM-DD) by which holders must recertify.")
@click.option("--reason", required=True)
@with_appcontext
def certification_require_recertification(course_slug: str, required_by, reason: str) -> None:
    """After a material change to a course, require holders of the programmes using it to recertify."""
    from datetime import timezone

    from lms.certification.services import CertificationError, require_recertification

    try:
        affected = require_recertification(None, course_slug, required_by.replace(hour=23, minute=59,
                                                                                    tzinfo=timezone.utc), reason)
    except CertificationError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{affected} certified agent(s) must recertify by {required_by:%d %b %Y}. Their past awards are unchanged.")


@lms_cli.group("reminders")
def reminders_group() -> None:
    """E-mail reminders to agents and weekly digests to organisations."""


@reminders_group.command("send")
@with_appcontext
def reminders_send() -> None:
    """Queue today's reminders and send what is pending (run daily; a second run sends nothing twice)."""
    from lms.reminders.services import send_reminders

    result = send_reminders()
    click.echo(result.summary())
    if result.failed:
        click.echo(f"{result.failed} message(s) failed; see the outbox. They are retried on the next run.", err=True)


@lms_cli.group("retention")
def retention_group() -> None:
    """The retention schedule (RETENTION_* settings): what is deleted, and when."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@with_appcontext
def retention_run(dry_run: bool) -> None:
    """Delete what the retention schedule says has been kept long enough (run daily; commits per class)."""
    from lms.privacy.retention import run_retention

    click.echo(run_retention(dry_run=dry_run).summary())


@lms_cli.group("evidence")
def evidence_group() -> None:
    """Signed evidence: certificates and reports as PDFs."""


@evidence_group.command("dev-key")
@with_appcontext
def evidence_dev_key() -> None:
    """Create a self-signed signing key and certificate for development (once; never overwrites)."""
    from lms.evidence.signing import SigningError, ensure_dev_key, load_signer

    config = current_app.config
    key_path, cert_path = Path(config["SIGNING_KEY_PATH"]), Path(config["SIGNING_CERT_PATH"])
    passphrase = config["SIGNING_KEY_PASSPHRASE"]
    passphrase = passphrase.encode() if passphrase else None
    if config["ENV_NAME"] == "production":
        raise click.ClickException("No development key in production: configure SIGNING_KEY_PATH and "
                                   "SIGNING_CERT_PATH with a real key and certificate (see the README).")
    try:
        created = ensure_dev_key(key_path, cert_path, passphrase=passphrase)
        signer = load_signer(key_path, cert_path, passphrase, key_id=config["SIGNING_KEY_ID"])
    except SigningError as exc:
        raise click.ClickException(str(exc)) from None
    if created:
        click.echo(f"Created: key {key_path} (mode 0600) and certificate {cert_path}.")
    else:
        click.echo(f"Already there, left unchanged: key {key_path} and certificate {cert_path}.")
        if key_path.stat().st_mode & 0o077:
            click.echo(f"Warning: {key_path} is readable by other users; run: chmod 600 {key_path}", err=True)
    click.echo(f"Key id {signer.key_id}; {signer.subject}; valid until {signer.not_valid_after:%d %b %Y}.")
    click.echo("For development only: the certificate is self-signed and no PDF reader trusts it. "
               "In production, configure a real key (see the README).")


@evidence_group.command("verify")
@click.argument("pdf_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def evidence_verify(pdf_file: Path) -> None:
    """Check a certificate PDF: signature, fingerprint against ours, and current status."""
    from lms.evidence.certificates import verify_file

    result = verify_file(pdf_file.read_bytes())
    if not result.found:
        # Not ours: the file was not parsed, so there is no signature to report.
        click.echo(f"Fingerprint: {result.sha256} matches no certificate we issued. {result.message}", err=True)
        sys.exit(1)
    signature = result.signature
    click.echo(f"Signature: {'valid' if signature and signature.valid else 'NOT valid'}"
               f"{'' if signature is None else ' (' + (signature.reason or signature.signer_subject) + ')'}")
    award = result.award
    click.echo(f"Fingerprint: matches the certificate issued {award.issued_at:%d %b %Y} "
               f"for {award.programme_version.title} (code {award.verification_code}).")
    click.echo(f"Status: {result.status}.")
    if not (signature and signature.valid) or result.status != "valid":
        sys.exit(1)


@evidence_group.command("check-addresses")
@with_appcontext
def evidence_check_addresses() -> None:
    """List stored certificates whose verification address is not BASE_URL's (exit 1 if any).

    An admin re-issues each from the person page (Re-issue the certificate): a new code,
    and the old certificate verifies as revoked (re-issued).
    """
    from lms.addresses import external_url
    from lms.evidence.certificates import certificates_with_foreign_address

    count = 0
    for row in certificates_with_foreign_address():
        count += 1
        click.echo(f"award {row.award_id} code {row.code}: carries {row.found or '(no readable address)'}; "
                   f"expected {row.expected}")
        click.echo(f"  re-issue it at {external_url('certification.person', user_id=row.user_id)}")
    if count:
        click.echo(f"{count} certificate(s) carry an address that is not BASE_URL "
                   f"({current_app.config['BASE_URL']}).", err=True)
        sys.exit(1)
    click.echo(f"Every stored certificate carries BASE_URL's address ({current_app.config['BASE_URL']}).")


@lms_cli.group("jobs")
def jobs_group() -> None:
    """Background jobs (exports)."""


@jobs_group.command("run-pending")
@with_appcontext
def jobs_run_pending() -> None:
    """Run every queued job here, one after another (JOBS_RUNNER=external, or to catch up by hand).
    Running jobs whose worker stopped are marked failed first."""
    from lms.jobs import services
    from lms.jobs.runner import run_in_context

    interrupted = services.fail_interrupted()
    if interrupted:
        click.echo(f"{interrupted} interrupted job(s) marked failed; they can be retried.")
    app = current_app._get_current_object()
    job_ids = services.queued_job_ids()
    for job_id in job_ids:
        state = run_in_context(app, job_id)
        click.echo(f"Job {job_id}: {state.value if state else 'taken by another worker'}.")
    click.echo(f"{len(job_ids)} queued job(s) run.")


from lms.xapi.cli import xapi_group  # noqa: E402  (its own module, like the other domains' work)

lms_cli.add_command(xapi_group)

from lms.webhooks.cli import webhooks_group  # noqa: E402

lms_cli.add_command(webhooks_group)
