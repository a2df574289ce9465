"""Conversations written once, channel-neutrally (DESIGN.md, "Conversations").

A conversation (`base.Conversation`) is its steps, the catalogue key of each step's question, the choices a step
offers (typed `actions.buttons.Button`s: a choice means the same thing wherever a channel shows it), the kind of
input a step takes, its validation (`rules/`), and the action it ends in. Its draft is a typed dataclass that
the channel keeps durable per person as JSON. Each input gives an `Outcome`: what to say (`Say`), hints for
channels that edit messages in place, and the state to keep (None: the conversation ended).

`base.run` answers leave words (取消, 退出…) and help words (帮助, 怎么填…) at every step of every conversation,
once; the channels' adapters (`handlers/` for Telegram, `channels/wechat/` for WeChat) only translate inputs and
render outcomes. This package never imports `telegram`, `channels` or `handlers`.
"""
