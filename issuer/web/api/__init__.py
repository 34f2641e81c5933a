"""The JSON API under ``/api/v1``: one bearer token acts for exactly one issuer."""
