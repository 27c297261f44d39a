"""SCIM 2.0 provisioning (RFC 7643/7644): an organisation's identity provider creates, changes and
deactivates its people, and puts them in groups that map to roles or programmes."""
