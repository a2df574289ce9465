"""The action core: everything a person or the scheduler does, one function each.

An action takes an `Env`, the actor and plain input; checks permission and state; and in one database
transaction writes the change, its event, the audit entry and every notice that follows from it
(`actions.notices.queue`, each with the condition it was written under). It returns an outcome for
the actor in channel-neutral form, or raises a typed error (`storage.errors`). Channels (`handlers/`
for Telegram) only parse, call and render; the scheduler calls the same actions.

Each module's docstring lists, per action, its effects: the one place to read "what happens when X".
"""
