"""``python -m geoplanner``: same as the ``geoplanner`` command."""

import sys

from geoplanner.cli import main

sys.exit(main())
