"""The WeChat service account (服务号) channel: callbacks in (`server`), the API out (`api`), WeChat's rendering of
the catalogues (`render`), the resident's conversations (`conversation`) and the sender's transport (`transport`).

Built on the same actions as Telegram; nothing here imports `telegram`.
"""
