"""Outgoing webhooks (Standard Webhooks): endpoints, the event outbox, signing and delivery."""
