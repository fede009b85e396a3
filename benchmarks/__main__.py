"""`python -m benchmarks --size S|M|L [--json] [--only B1,B3] [--repeat N] [--out FILE]`."""

import sys

from benchmarks.run import main

sys.exit(main())
