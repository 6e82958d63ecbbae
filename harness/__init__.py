"""The local rig shared by the tests and the benchmark: a Slack stand-in and servers run as child processes.

The CCC stand-in lives in `bot.sandbox`, because `CCC_SANDBOX=1` serves it to users too.
"""
