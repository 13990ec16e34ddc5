"""Who may do what (roles and scopes), API keys, console passwords and Temporal payload encryption.

Pure: no web framework, no database. SECURITY.md tells the threat model these serve."""
