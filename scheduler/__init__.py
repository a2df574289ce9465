"""The scheduler: sweeps the database for what is due and delivers it through the outbox."""
