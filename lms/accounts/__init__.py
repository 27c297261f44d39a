"""People and organisations: users, roles, sign-in, set-password links."""
