"""The learner's pages: sign-in, claims, attestations, badges and CPD."""
