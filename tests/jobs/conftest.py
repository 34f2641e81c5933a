"""The loopback SMTP server of the mail tests, for the runners that send mail."""

from tests.services.test_mail import smtp_server  # noqa: F401 - a fixture
