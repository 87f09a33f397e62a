import sys

from docatlas.cli import main

sys.exit(main())
