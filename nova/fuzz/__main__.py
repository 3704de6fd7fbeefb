import sys

from nova.fuzz import fuzzer

sys.exit(fuzzer.main())
