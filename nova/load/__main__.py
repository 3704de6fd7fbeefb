import sys

from nova.load import cli

sys.exit(cli.main())
