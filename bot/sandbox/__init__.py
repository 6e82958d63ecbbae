"""A CCC-compatible ListPhoneNumbers server on loopback, with a built-in sample instance.

It backs CCC_SANDBOX=1 and the tests; the bot reaches it through the real SDK over HTTP.
"""

from bot.sandbox.data import sample_instances
from bot.sandbox.server import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET, CccServer

__all__ = ["CccServer", "sample_instances", "SANDBOX_ACCESS_KEY_ID", "SANDBOX_ACCESS_KEY_SECRET"]
