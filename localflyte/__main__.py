import sys

from localflyte.cli import main

sys.exit(main())
