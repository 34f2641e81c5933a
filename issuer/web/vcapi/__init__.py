"""The W3C CCG VC API (https://w3c-ccg.github.io/vc-api/): issue and verify."""
