# Put first on PYTHONPATH by conftest.py for the stock clients the e2e tests run: Debian's
# python3-tempest (test_tempest.py) pulls in python3-eventlet through oslo.concurrency, and
# cinderclient then imports eventlet (and pkg_resources) on every call when it is there, which
# tripled the time of each `cinder` command. The clients import it only optionally, so they
# behave here as on a machine without it.
raise ImportError("eventlet is left out of the stock clients in the e2e tests (tests/e2e/conftest.py)")
