"""The Telegram channel: renderer (catalogue markup → HTML), callback codec, keyboards, flood limits and
the outbox sender's transport."""
