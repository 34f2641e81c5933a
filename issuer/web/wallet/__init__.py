"""Handing badges to wallets: the VC API exchanges a wallet calls, and the learner's page
that starts one."""
