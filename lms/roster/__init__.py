"""CSV roster import: upload, preview each row's outcome, apply as a background job (issue #15)."""
