"""Use cases shared by the web pages, the JSON API and the CLI.

They take the session, the clock and the acting party as arguments and flush, never commit:
the caller owns the transaction.
"""
