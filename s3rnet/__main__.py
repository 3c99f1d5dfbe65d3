"""``python -m s3rnet``: see :mod:`s3rnet.cli`."""

import sys

from .cli import main

sys.exit(main())
