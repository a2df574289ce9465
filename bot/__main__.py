"""`python -m bot` is the same CLI as the `tongxin` console script."""

import sys

from bot.cli import main

sys.exit(main())
