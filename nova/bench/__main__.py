import sys

from nova.bench import cli

sys.exit(cli.main())
