import sys

from crosscbam.cli import main

sys.exit(main())
