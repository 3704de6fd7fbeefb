"""Schema-driven fuzzing of the compute API (``nova-api-fuzz``).

``nova.fuzz.fuzzer`` draws requests from the OpenAPI description and
checks the answers; ``nova.fuzz.world`` is what they are sent to (the
real compute API over a seeded SQLite database); ``nova.fuzz.strategies``
turns the API's JSON schemas into hypothesis strategies. Needs hypothesis
(the ``fuzz`` extra).
"""
