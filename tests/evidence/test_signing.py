"""PAdES signing of issued PDFs: development keys, signing, and strict offline verification."""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import stat
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, PrivateFormat
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from lms.evidence.signing import (
    DEFAULT_REASON, FIELD_NAME, Signer, SigningError, ensure_dev_key, load_signer, sign_pdf,
    verify_pdf_signature,
)
from tests.conftest import make_app


def sample_pdf(pages: int = 12) -> bytes:
    """A plain text PDF of about 4 KB a page (12 pages: ~50 KB), made without WeasyPrint."""
    writer = PdfFileWriter(stream_xrefs=False)
    font = writer.add_object(generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Font"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Type1"),
        generic.pdf_name("/BaseFont"): generic.pdf_name("/Helvetica"),
    }))
    for page_no in range(1, pages + 1):
        lines = b"".join(b"(Page %d, line %02d: agent completed GDPR module, score recorded) '\n"
                         % (page_no, line) for line in range(60))
        contents = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 9 Tf 40 800 Td 12 TL\n"
                                                                      + lines + b"ET"))
        resources = generic.DictionaryObject({generic.pdf_name("/Font"): generic.DictionaryObject(
            {generic.pdf_name("/F1"): font})})
        writer.insert_page(PageObject(contents=contents, media_box=[0, 0, 595, 842], resources=resources))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def incremental_update(pdf: bytes, *, new_first_page_text: bytes | None) -> bytes:
    """Append an incremental update: replace page 1's content, or (None) add an unused object only."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if new_first_page_text is None:
        writer.add_object(generic.DictionaryObject({generic.pdf_name("/Note"): generic.TextStringObject("x")}))
    else:
        page_ref, _ = writer.find_page_for_modification(0)
        page = page_ref.get_object()
        page[generic.pdf_name("/Contents")] = writer.add_object(generic.StreamObject(
            stream_data=b"BT /F1 24 Tf 40 780 Td (" + new_first_page_text + b") Tj ET"))
        writer.mark_update(page_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("signing")
    assert ensure_dev_key(directory / "key.pem", directory / "cert.pem") is True
    return directory


@pytest.fixture(scope="module")
def signer(key_dir: Path) -> Signer:
    return load_signer(key_dir / "key.pem", key_dir / "cert.pem", None)


@pytest.fixture(scope="module")
def plain_pdf() -> bytes:
    return sample_pdf()


@pytest.fixture(scope="module")
def signed_pdf(plain_pdf: bytes, signer: Signer) -> bytes:
    return sign_pdf(plain_pdf, signer, location="Leeds, GB")


# --- development key --------------------------------------------------------------------------


def test_dev_key_is_created_once_with_a_private_key_file(tmp_path: Path) -> None:
    key_path, cert_path = tmp_path / "signing" / "key.pem", tmp_path / "signing" / "cert.pem"

    assert ensure_dev_key(key_path, cert_path) is True

    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
    key_before, cert_before = key_path.read_bytes(), cert_path.read_bytes()
    assert b"BEGIN PRIVATE KEY" in key_before
    cert = x509.load_pem_x509_certificate(cert_before)
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == \
        "CallSafe Academy development signing"
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(days=729) < lifetime < timedelta(days=731)

    assert ensure_dev_key(key_path, cert_path) is False
    assert (key_path.read_bytes(), cert_path.read_bytes()) == (key_before, cert_before)


def test_dev_key_never_overwrites_half_a_pair(tmp_path: Path) -> None:
    key_path, cert_path = tmp_path / "key.pem", tmp_path / "cert.pem"
    ensure_dev_key(key_path, cert_path)
    cert_path.unlink()
    key_before = key_path.read_bytes()

    with pytest.raises(SigningError, match="refusing to overwrite"):
        ensure_dev_key(key_path, cert_path)
    assert key_path.read_bytes() == key_before and not cert_path.exists()


def test_key_id_defaults_to_the_certificate_fingerprint(key_dir: Path, signer: Signer) -> None:
    cert = x509.load_pem_x509_certificate((key_dir / "cert.pem").read_bytes())
    fingerprint = cert.fingerprint(cert.signature_hash_algorithm).hex()

    assert signer.key_id == fingerprint[:16] == hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()[:16]
    assert "CallSafe Academy development signing" in signer.subject
    assert load_signer(key_dir / "key.pem", key_dir / "cert.pem", None, key_id="2026-q3").key_id == "2026-q3"
    with pytest.raises(SigningError, match="SIGNING_KEY_ID"):
        load_signer(key_dir / "key.pem", key_dir / "cert.pem", None, key_id="bad id] x")


def test_encrypted_key_needs_its_passphrase(tmp_path: Path) -> None:
    key_path, cert_path = tmp_path / "key.pem", tmp_path / "cert.pem"
    ensure_dev_key(key_path, cert_path, passphrase=b"correct horse battery staple")
    assert b"ENCRYPTED" in key_path.read_bytes()

    with pytest.raises(SigningError, match="is encrypted"):
        load_signer(key_path, cert_path, None)
    with pytest.raises(SigningError, match="wrong passphrase"):
        load_signer(key_path, cert_path, b"wrong")
    assert load_signer(key_path, cert_path, b"correct horse battery staple").key_id


def test_key_must_match_the_certificate(tmp_path: Path, key_dir: Path) -> None:
    ensure_dev_key(tmp_path / "key.pem", tmp_path / "cert.pem")
    with pytest.raises(SigningError, match="does not belong"):
        load_signer(tmp_path / "key.pem", key_dir / "cert.pem", None)
    with pytest.raises(SigningError, match="dev-key"):
        load_signer(tmp_path / "missing.pem", tmp_path / "cert.pem", None)


def test_cli_dev_key_creates_the_configured_pair_once(tmp_path: Path) -> None:
    app = make_app(SIGNING_KEY_PATH=tmp_path / "s" / "key.pem", SIGNING_CERT_PATH=tmp_path / "s" / "cert.pem")
    runner = app.test_cli_runner()

    first = runner.invoke(args=["lms", "evidence", "dev-key"])
    assert first.exit_code == 0, first.output
    assert "Created" in first.output and str(tmp_path / "s" / "key.pem") in first.output
    assert "development only" in first.output
    assert stat.S_IMODE((tmp_path / "s" / "key.pem").stat().st_mode) == 0o600

    second = runner.invoke(args=["lms", "evidence", "dev-key"])
    assert second.exit_code == 0 and "Already there" in second.output and "Warning" not in second.output

    (tmp_path / "s" / "key.pem").chmod(0o644)
    third = runner.invoke(args=["lms", "evidence", "dev-key"])
    assert third.exit_code == 0 and "readable by other users" in third.stderr


# --- signing and verifying --------------------------------------------------------------------


def test_signed_pdf_verifies_with_subject_and_key_id(plain_pdf: bytes, signed_pdf: bytes, signer: Signer) -> None:
    check = verify_pdf_signature(signed_pdf, [signer.certificate_pem])

    assert check.valid and check.intact, check.reason
    assert "CallSafe Academy development signing" in check.signer_subject
    assert check.key_id == signer.key_id
    assert signer.key_id in check.reason
    # An incremental update: the issued bytes are kept unchanged in front of the signature.
    assert signed_pdf.startswith(plain_pdf)


def test_signature_dictionary_is_pades_and_names_key_and_reason(signed_pdf: bytes, signer: Signer) -> None:
    sig = PdfFileReader(io.BytesIO(signed_pdf)).embedded_signatures[0]

    assert sig.field_name == FIELD_NAME
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig.sig_object["/Reason"] == DEFAULT_REASON
    assert sig.sig_object["/Location"] == "Leeds, GB"
    assert sig.sig_object["/Name"] == f"CallSafe Academy development signing [key-id {signer.key_id}]"


def test_signed_pdf_passes_qpdf_check(signed_pdf: bytes, tmp_path: Path) -> None:
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.skip("qpdf is not installed (apt-get install qpdf)")
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_pdf)

    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout


def test_poppler_reads_the_signer_and_an_unaltered_document(signed_pdf: bytes, tmp_path: Path) -> None:
    """An independent reader (poppler's pdfsig, as in evince and okular) shows who signed and that
    the whole document is covered; it does not know our self-signed certificate, as expected."""
    pdfsig = shutil.which("pdfsig")
    if pdfsig is None:
        pytest.skip("pdfsig is not installed (apt-get install poppler-utils)")
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_pdf)

    out = subprocess.run([pdfsig, str(path)], capture_output=True, text=True, timeout=60).stdout

    assert "Signer Certificate Common Name: CallSafe Academy development signing" in out
    assert "Signature Type: ETSI.CAdES.detached" in out
    assert "Total document signed" in out
    assert "Signature Validation: Signature is Valid." in out


def test_one_flipped_byte_in_the_middle_breaks_the_signature(signed_pdf: bytes, signer: Signer) -> None:
    middle = len(signed_pdf) // 2
    tampered = bytearray(signed_pdf)
    tampered[middle] ^= 0x01

    check = verify_pdf_signature(bytes(tampered), [signer.certificate_pem])

    assert not check.valid and not check.intact
    assert "changed after it was signed" in check.reason


def test_a_changed_score_breaks_the_signature(signed_pdf: bytes, signer: Signer) -> None:
    tampered = signed_pdf.replace(b"Page 3, line 07", b"Page 3, line 08", 1)
    assert tampered != signed_pdf and len(tampered) == len(signed_pdf)

    check = verify_pdf_signature(tampered, [signer.certificate_pem])

    assert not check.valid and not check.intact


@pytest.mark.parametrize(("suffix", "why"), [
    (b"\n", "modified after it was signed"),
    (b"\n% appended note\n", "modified after it was signed"),
    (b"%%EOF\n", "Not a readable PDF"),
])
def test_appended_bytes_are_not_valid(signed_pdf: bytes, signer: Signer, suffix: bytes, why: str) -> None:
    check = verify_pdf_signature(signed_pdf + suffix, [signer.certificate_pem])

    assert not check.valid
    assert why in check.reason


def test_incremental_update_changing_a_page_is_not_valid(signed_pdf: bytes, signer: Signer) -> None:
    updated = incremental_update(signed_pdf, new_first_page_text=b"Certificate revoked? No: 100%")
    assert updated.startswith(signed_pdf)

    check = verify_pdf_signature(updated, [signer.certificate_pem])

    assert not check.valid and check.intact
    assert "modified after it was signed" in check.reason


def test_even_a_harmless_incremental_update_is_not_valid(signed_pdf: bytes, signer: Signer) -> None:
    check = verify_pdf_signature(incremental_update(signed_pdf, new_first_page_text=None),
                                 [signer.certificate_pem])

    assert not check.valid


def test_edits_to_the_unsigned_signature_slot_are_not_valid(signed_pdf: bytes, signer: Signer) -> None:
    """/Contents is outside the signed byte range; its padding, case and spacing are checked all the same."""
    contents = re.search(rb"/Contents <([0-9A-F]+)>", signed_pdf)
    assert contents is not None and contents.group(1).endswith(b"0000")
    hex_start, hex_end = contents.span(1)
    edits = {
        "padding": signed_pdf[:hex_end - 1] + b"1" + signed_pdf[hex_end:],
        "letter case": signed_pdf[:hex_start] + contents.group(1).lower() + signed_pdf[hex_end:],
        "whitespace": signed_pdf[:hex_end - 1] + b" " + signed_pdf[hex_end:],
    }
    for what, tampered in edits.items():
        assert len(tampered) == len(signed_pdf) and tampered != signed_pdf, what
        check = verify_pdf_signature(tampered, [signer.certificate_pem])
        assert not check.valid, what
        assert check.reason == "The signature container was edited after signing.", what


def test_a_certificate_we_do_not_trust_is_not_valid(signed_pdf: bytes, tmp_path: Path) -> None:
    ensure_dev_key(tmp_path / "key.pem", tmp_path / "cert.pem")
    other = (tmp_path / "cert.pem").read_bytes()

    check = verify_pdf_signature(signed_pdf, [other])

    assert not check.valid and check.intact
    assert "not one we trust" in check.reason
    assert not verify_pdf_signature(signed_pdf, []).valid


def test_rotation_old_documents_verify_against_the_retired_certificate(
        plain_pdf: bytes, signed_pdf: bytes, signer: Signer, tmp_path: Path) -> None:
    ensure_dev_key(tmp_path / "key.pem", tmp_path / "cert.pem", common_name="CallSafe Academy signing 2027")
    new_signer = load_signer(tmp_path / "key.pem", tmp_path / "cert.pem", None)
    newly_signed = sign_pdf(plain_pdf, new_signer)
    trusted = [new_signer.certificate_pem, signer.certificate_pem]

    old_check, new_check = (verify_pdf_signature(signed_pdf, trusted),
                            verify_pdf_signature(newly_signed, trusted))

    assert old_check.valid and new_check.valid
    assert (old_check.key_id, new_check.key_id) == (signer.key_id, new_signer.key_id)
    assert old_check.key_id != new_check.key_id
    assert "CallSafe Academy signing 2027" in new_check.signer_subject


def test_unsigned_pdf_is_not_valid_and_says_why(plain_pdf: bytes, signer: Signer) -> None:
    check = verify_pdf_signature(plain_pdf, [signer.certificate_pem])

    assert not check.valid and not check.intact
    assert check.reason == "The document has no signature."
    assert check.key_id is None


def test_not_a_pdf_is_not_valid(signer: Signer) -> None:
    for data in (b"", b"hello", b"%PDF-1.7\n%%EOF\n"):
        check = verify_pdf_signature(data, [signer.certificate_pem])
        assert not check.valid and check.reason.startswith("Not a readable PDF")


def test_signing_something_that_is_not_a_pdf_fails_cleanly(signer: Signer) -> None:
    with pytest.raises(SigningError, match="Cannot sign"):
        sign_pdf(b"not a pdf", signer)


def test_unsigned_names_inside_the_signature_container_cannot_be_edited(signed_pdf: bytes, signer: Signer) -> None:
    """The signer's name appears in the embedded certificate (issuer, subject), in the unsigned
    signer identifier and in the signed attributes: an edit to any one of them is not valid."""
    name_hex = b"development".hex().upper().encode()
    parts = signed_pdf.split(name_hex)
    assert len(parts) - 1 == 4
    edited = b"developmEnt".hex().upper().encode()
    for occurrence in range(1, len(parts)):
        tampered = name_hex.join(parts[:occurrence]) + edited + name_hex.join(parts[occurrence:])

        check = verify_pdf_signature(tampered, [signer.certificate_pem])

        assert not check.valid, occurrence


def _cert(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    usage = dict(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                 encipher_only=False, decipher_only=False)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(**usage), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                           critical=False)
            .sign(issuer_key, hashes.SHA256()))


def test_a_key_issued_by_a_ca_verifies_against_the_ca(plain_pdf: bytes, tmp_path: Path) -> None:
    """Production: an RSA 3072 key certified by a CA; the certificate file holds leaf then CA."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("CallSafe Test Root CA", ca_key, "CallSafe Test Root CA", ca_key, ca=True)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    leaf = _cert("CallSafe Academy evidence signing", leaf_key, "CallSafe Test Root CA", ca_key, ca=False)
    (tmp_path / "key.pem").write_bytes(leaf_key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"s3cret passphrase")))
    (tmp_path / "cert.pem").write_bytes(leaf.public_bytes(Encoding.PEM) + ca.public_bytes(Encoding.PEM))
    signer = load_signer(tmp_path / "key.pem", tmp_path / "cert.pem", b"s3cret passphrase", key_id="evidence-2026")
    signed = sign_pdf(plain_pdf, signer)

    by_ca = verify_pdf_signature(signed, [ca.public_bytes(Encoding.PEM)])
    by_file = verify_pdf_signature(signed, [(tmp_path / "cert.pem").read_bytes()])

    assert by_ca.valid and by_file.valid, (by_ca.reason, by_file.reason)
    assert by_ca.key_id == "evidence-2026" and "CallSafe Academy evidence signing" in by_ca.signer_subject


def test_a_broken_trusted_certificate_is_a_configuration_error(signed_pdf: bytes) -> None:
    with pytest.raises(ValueError):
        verify_pdf_signature(signed_pdf, [b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
