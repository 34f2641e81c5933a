"""Staff pages: sign-in and dashboard, achievements, awards and credentials, bulk awards,
the review queue, revocation, signing keys and API tokens. Every page needs a signed-in staff
member, and every page and write under ``/admin/issuers/<slug>`` first checks that they
belong to that issuer."""
