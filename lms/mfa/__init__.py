"""Second factors: TOTP with recovery codes, passkeys (WebAuthn), and who must use one."""
