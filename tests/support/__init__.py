"""What the suite, `loadtests/` and `bench/` share: free ports, the test settings and
process environments, PostgreSQL databases and Redis database indexes of their own,
servers, and auth helpers. Fixtures stay in `conftest.py`; modules import from here.
"""
