"""Benchmarks and reliability figures of kraft-entrypoint, side by side with the seed's entrypoint.sh.

Run ``bench/run`` (or ``.venv/bin/python -m bench``) from the repository; ``--help`` lists the options.
"""
