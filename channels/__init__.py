"""One package per chat channel: what is specific to it (rendering, button encoding, transport).

Everything else — actions, rules, storage, the scheduler — is channel-neutral.
"""
