"""The WeCom (企业微信) channel: a self-built application (自建应用) through which staff work (docs/wecom.md)."""
