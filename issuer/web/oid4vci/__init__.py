"""OpenID for Verifiable Credential Issuance 1.0 over HTTP: what a wallet calls."""
