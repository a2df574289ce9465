"""Where the bot meets the outside world: one package per chat channel (rendering, button encoding, transport,
the callback servers), and what every channel's runtime shares: delivery, freshness of callbacks, Tencent's API
errors, the leader's lease and the health endpoint.

Everything else — actions, rules, storage, the scheduler — is channel-neutral.
"""
