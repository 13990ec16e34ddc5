"""Customer e-mails: templates per language (render), SMTP (smtp), a local catcher (catcher)."""
