"""Tongxin (同心): the root — the entry point (`python -m bot`), the application's assembly, the demo and the seed.

Nothing below imports it: the kernel is `core/`, the Telegram runtime `channels/telegram/`."""
