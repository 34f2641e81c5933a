"""The public side: credential, issuer and achievement pages, images, QR codes, baked badges,
the verify page and the published status lists."""
