"""The Telegram channel: renderer (catalogue markup → HTML), callback codec, keyboards."""
