"""The pages of accounts (the `accounts` blueprint): signing in, with the second step (lms/mfa) and
single sign-on (lms/sso) it hands over to; set-password and reset links; one's own account and
sessions; the admin's people and organisations, under the record rules of lms/policy.

A package above accounts, mfa, sso and policy, since it uses all of them, while they need from
accounts only its models and services (lms/accounts), and from here nothing: mfa and sso end a
sign-in through lms.accounts.sign_in.
"""
