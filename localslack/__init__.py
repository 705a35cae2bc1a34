"""localslack: a local Slack Web API endpoint for Taxiway's tests and its local stack.

It answers the Web API methods Taxiway uses (``auth.test``, ``chat.postMessage``, ``chat.update``,
``conversations.list``) and incoming webhooks with Slack's response shapes, records every message
for assertions, and injects faults (429 with Retry-After, 500, ``invalid_auth``,
``channel_not_found``) on request. It imports nothing from Taxiway. See ``localslack/README.md``.
"""
