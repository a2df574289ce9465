"""The kernel below every other package: settings, catalogues (i18n), the clock, logging and keyed locks.

It imports nothing of the project; everything else may import it."""
