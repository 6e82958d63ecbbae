"""numbers: a Slack bot that lists the phone numbers of an Alibaba Cloud Contact Center instance."""
