"""``python -m c10k module:app --interface asgi|wsgi|c10k ...`` (see ``--help``)."""

import sys

from ._cli import main

sys.exit(main())
