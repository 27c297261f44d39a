"""Single sign-on with OpenID Connect: one connection per organisation, home-realm discovery by
e-mail domain, just-in-time accounts and the rules that keep each IdP inside its organisation."""
