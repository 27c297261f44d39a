"""PAdES signatures on the PDFs we issue (certificates, evidence reports).

security.md, "Evidence and audit": issued evidence never changes, and every
signature carries a key id so that keys can rotate. A signed PDF shows in any
reader who signed it and whether it was changed since.

- `ensure_dev_key` makes a self-signed development key and certificate
  (`flask lms evidence dev-key`); production configures a real one
  (SIGNING_KEY_PATH, SIGNING_CERT_PATH, SIGNING_KEY_PASSPHRASE, SIGNING_KEY_ID).
- `load_signer` reads the key and certificate once; `sign_pdf` adds a PAdES
  baseline (B-B) signature as an incremental update, so the bytes of the
  original document are kept as they were.
- `verify_pdf_signature` checks a PDF against the certificates we trust (the
  current one and the retired ones), offline. It is strict: the signature must
  cover the whole file, so any byte changed or appended after signing fails.

The key id is written into the signature dictionary's /Name entry, which lies
inside the signed byte range ("<certificate common name> [key-id <id>]").

No Flask here: the app and the CLI pass in the configured paths. pyHanko is imported inside the
functions that sign or verify, so loading the app does not pay for it (about a third of a second).
"""
from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

# The key's error and id, shared with the audit log's checkpoints (which must not import evidence).
from lms.signing_keys import SigningError, key_id_for

FIELD_NAME = "CallSafeSignature"
DEFAULT_REASON = "Training evidence issued by CallSafe Academy"
DEV_COMMON_NAME = "CallSafe Academy development signing"
DEV_VALIDITY = timedelta(days=730)

# A key id is short and plain, so that it reads back unambiguously from /Name.
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_NAME_KEY_ID = re.compile(r"\[key-id ([A-Za-z0-9][A-Za-z0-9._:-]{0,63})\]\Z")


# --- keys -------------------------------------------------------------------------------------


def ensure_dev_key(key_path: Path, cert_path: Path, *, common_name: str = DEV_COMMON_NAME,
                   passphrase: bytes | None = None) -> bool:
    """Create a self-signed ECDSA P-256 key and certificate (2 years) unless they exist.

    Returns True when the files were created, False when both were already there. One file
    without the other is an error: we never overwrite what may be a real key. The key file is
    written with mode 0600 (encrypted when a passphrase is given).
    """
    key_path, cert_path = Path(key_path), Path(cert_path)
    if key_path.exists() and cert_path.exists():
        return False
    if key_path.exists() or cert_path.exists():
        present, missing = (key_path, cert_path) if key_path.exists() else (cert_path, key_path)
        raise SigningError(f"{present} exists but {missing} does not; refusing to overwrite. "
                           "Restore the missing file or move the other one away.")

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CallSafe Academy"),
    ])
    now = datetime.now(timezone.utc).replace(microsecond=0)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + DEV_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                encryption)

    for directory in {key_path.parent, cert_path.parent}:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # O_EXCL: never follow or replace a file that appeared meanwhile; 0600 from the start.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    os.chmod(key_path, 0o600)  # in case the umask removed bits we wanted (it cannot add any)
    try:
        fd = os.open(cert_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(cert.public_bytes(serialization.Encoding.PEM))
    except BaseException:
        key_path.unlink(missing_ok=True)
        raise
    return True


@dataclass(frozen=True)
class Signer:
    """A loaded signing key: what `sign_pdf` needs. Load once, reuse for every document."""

    key_id: str
    subject: str
    certificate_pem: bytes
    not_valid_after: datetime
    backend: Any = field(repr=False, compare=False)  # pyhanko.sign.signers.SimpleSigner


def load_signer(key_path: Path, cert_path: Path, passphrase: bytes | None, *,
                key_id: str | None = None) -> Signer:
    """Read the private key (PEM, PKCS#8 or traditional) and the certificate file.

    The certificate file holds the signer's certificate first, then any intermediate
    certificates (embedded in each signature). `key_id` defaults to `key_id_for(certificate)`.
    Raises SigningError with a readable message for a missing file, a wrong passphrase, a key
    that does not match the certificate, or a certificate outside its validity period.
    """
    key_path, cert_path = Path(key_path), Path(cert_path)
    try:
        key_data = key_path.read_bytes()
        cert_data = cert_path.read_bytes()
    except OSError as exc:
        raise SigningError(f"Cannot read the signing key or certificate: {exc}. For development, "
                           "create them with `flask --app wsgi lms evidence dev-key`.") from None
    try:
        key = serialization.load_pem_private_key(key_data, password=passphrase or None)
    except TypeError:  # cryptography: passphrase given for a plain key, or missing for an encrypted one
        state = "is not encrypted but a passphrase was given" if passphrase else \
            "is encrypted: set SIGNING_KEY_PASSPHRASE"
        raise SigningError(f"The signing key {key_path} {state}.") from None
    except ValueError:
        raise SigningError(f"Cannot load the signing key {key_path}: not a PEM private key, "
                           "or a wrong passphrase.") from None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        pass
    elif isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise SigningError(f"The RSA signing key has {key.key_size} bits; use at least 2048 (3072 recommended).")
    else:
        raise SigningError("The signing key must be ECDSA or RSA (what PDF readers verify).")

    try:
        chain = x509.load_pem_x509_certificates(cert_data)
    except ValueError:
        raise SigningError(f"{cert_path} does not hold a PEM certificate.") from None
    cert = chain[0]
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if (cert.public_key().public_bytes(serialization.Encoding.DER, spki)
            != key.public_key().public_bytes(serialization.Encoding.DER, spki)):
        raise SigningError(f"The signing key {key_path} does not belong to the certificate {cert_path}.")
    now = datetime.now(timezone.utc)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise SigningError(f"The signing certificate {cert_path} is valid only from "
                           f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}.")

    cert_der = cert.public_bytes(serialization.Encoding.DER)
    if key_id is None:
        key_id = key_id_for(cert_der)
    elif not _KEY_ID.fullmatch(key_id):
        raise SigningError(f"SIGNING_KEY_ID={key_id!r}: use 1-64 letters, digits and . _ : -")

    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    asn1_cert = asn1_x509.Certificate.load(cert_der)
    backend = signers.SimpleSigner(
        signing_cert=asn1_cert,
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        # The signer's certificate is embedded anyway; the registry adds the intermediates.
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain[1:]]),
    )
    return Signer(key_id=key_id, subject=asn1_cert.subject.human_friendly,
                  certificate_pem=cert.public_bytes(serialization.Encoding.PEM),
                  not_valid_after=cert.not_valid_after_utc, backend=backend)


def signer_from_config(config: Mapping[str, Any]) -> Signer:
    """`load_signer` with the app's settings (SIGNING_KEY_PATH, ...; see lms/config.py)."""
    passphrase = config.get("SIGNING_KEY_PASSPHRASE")
    return load_signer(Path(config["SIGNING_KEY_PATH"]), Path(config["SIGNING_CERT_PATH"]),
                       passphrase.encode() if isinstance(passphrase, str) else passphrase,
                       key_id=config.get("SIGNING_KEY_ID") or None)


# --- signing ----------------------------------------------------------------------------------


def _common_name(signer: Signer) -> str:
    names = signer.backend.signing_cert.subject.native
    return str(names.get("common_name") or signer.subject)


def sign_pdf(pdf: bytes, signer: Signer, *, reason: str = DEFAULT_REASON,
             location: str | None = None) -> bytes:
    """Return `pdf` with an invisible PAdES B-B signature (SHA-256) added as an incremental update.

    The signature dictionary names the signer and the key id (/Name) and the reason; readers
    show them in their signature panel.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError as PyHankoSigningError

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            name=f"{_common_name(signer)} [key-id {signer.key_id}]",
        )
        out = _outside_event_loop(signers.PdfSigner(meta, signer=signer.backend).sign_pdf, writer, in_place=False)
    except (PdfError, PyHankoSigningError) as exc:
        raise SigningError(f"Cannot sign the document: {exc}") from exc
    return out.getvalue()


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of `verify_pdf_signature`.

    intact: the signed bytes are unchanged (the digest and the signature match).
    valid:  intact, signed by a trusted certificate, and the signature covers the whole file
            (nothing changed or appended after signing).
    reason: a sentence saying why, for people.
    """

    valid: bool
    intact: bool
    signer_subject: str
    key_id: str | None
    reason: str


def _trust_roots(trusted_certs: list[bytes]) -> list[asn1_x509.Certificate]:
    """PEM (one or more certificates each) or DER; parsed strictly by `cryptography`."""
    roots = []
    for data in trusted_certs:
        certs = (x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data
                 else [x509.load_der_x509_certificate(data)])
        roots.extend(asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs)
    return roots


def _container_untouched(pdf: bytes, sig: Any, status: Any, trusted: set[bytes]) -> bool:
    """Whether the unsigned bytes of the signature slot are as pyHanko wrote them.

    /Contents lies outside the signed byte range by nature, and parts of the CMS container in it
    are not covered by the signature either (the certificates, the signer identifier, the
    algorithm list). We check them against what `sign_pdf` writes:
    - the hex string is the DER container in upper case followed by zero padding, no whitespace;
    - one signer, identified by the issuer and serial number of the validated certificate;
    - every certificate carried is on the validated path or trusted, no CRLs, no unsigned attributes,
      and the algorithm list names only the digest used.
    What remains malleable is the ECDSA value itself ((r, s) and (r, n - s) both verify), which
    cannot change what was signed.
    """
    _, len1, start2, _ = sig.byte_range
    content: bytes = sig.pkcs7_content
    try:
        _, _, _, header, body, trailer = asn1_parser.parse(content)
    except ValueError:
        return False
    der = header + body + trailer
    padding = "00" * (len(content) - len(der))
    if pdf[len1:start2] != f"<{der.hex().upper()}{padding}>".encode():
        return False

    signed_data = sig.signed_data
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        return False
    info = signer_infos[0]
    cert = status.signing_cert
    sid = info["sid"]
    if (sid.name != "issuer_and_serial_number"
            or sid.chosen["issuer"].dump() != cert.issuer.dump()
            or sid.chosen["serial_number"].native != cert.serial_number):
        return False
    if info["unsigned_attrs"].native is not None or signed_data["crls"].native is not None:
        return False
    if [alg.dump() for alg in signed_data["digest_algorithms"]] != [info["digest_algorithm"].dump()]:
        return False
    encap = signed_data["encap_content_info"]
    if encap["content_type"].native != "data" or encap["content"].native is not None:
        return False
    known = trusted | {c.dump() for c in status.validation_path.iter_certs(include_root=True)}
    return all(choice.chosen.dump() in known for choice in signed_data["certificates"])


def verify_pdf_signature(pdf: bytes, trusted_certs: list[bytes]) -> SignatureCheck:
    """Check the CallSafe signature of `pdf` against `trusted_certs` (PEM), with no network access.

    Checks the signature named CallSafeSignature (or, without one, the document's last signature).
    A trusted certificate that cannot be parsed is a configuration error: ValueError.
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    roots = _trust_roots(trusted_certs)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=True)
        embedded = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return SignatureCheck(False, False, "", None, f"Not a readable PDF: {exc}")
    if not embedded:
        return SignatureCheck(False, False, "", None, "The document has no signature.")
    ours = [sig for sig in embedded if sig.field_name == FIELD_NAME]
    sig = ours[-1] if ours else embedded[-1]

    name = sig.sig_object.get("/Name")
    match = _NAME_KEY_ID.search(str(name)) if name is not None else None
    key_id = match.group(1) if match else None

    try:
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        # No difference analysis: an update after signing fails the coverage check below whatever
        # it contains, and skipping it saves time and pyHanko's error logs on tampered uploads.
        status = _outside_event_loop(validate_pdf_signature, sig, context, skip_diff=True)
    except (SignatureValidationError, PdfError, ValueError) as exc:
        return SignatureCheck(False, False, "", key_id, f"The signature cannot be checked: {exc}")

    subject = status.signing_cert.subject.human_friendly
    common_name = status.signing_cert.subject.native.get("common_name") or subject
    intact = bool(status.intact and status.valid)
    if not intact:
        reason = "The document was changed after it was signed: the signature does not match its content."
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        reason = ("The document was modified after it was signed: the signature does not cover "
                  "the whole file.")
    elif not status.trusted:
        reason = f"The signer's certificate ({subject}) is not one we trust."
    elif not status.bottom_line:
        reason = f"The signature does not meet the signing policy ({status.summary()})."
    elif not _container_untouched(pdf, sig, status, {root.dump() for root in roots}):
        reason = "The signature container was edited after signing."
    elif key_id is None:
        reason = "The signature does not name its key id."
    else:
        return SignatureCheck(True, True, subject, key_id,
                              f"Signed by {common_name} with key {key_id}; unchanged since signing.")
    return SignatureCheck(False, intact, subject, key_id, reason)


def _outside_event_loop(function, *args, **kwargs):
    """Call one of pyHanko's synchronous helpers, which run their own asyncio loop.

    They fail inside a thread that already runs a loop (an async server, or Playwright in
    the test suite); there, the call goes to a short-lived thread of its own.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()
