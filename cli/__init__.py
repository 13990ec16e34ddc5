"""`python -m cli`: manage API keys and console users from a shell (README: "Keys and users")."""
