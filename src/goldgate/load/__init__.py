"""Load gates: locust drives the traffic in its own process, goldgate judges the numbers.

The pytest process never imports locust (gevent monkey-patches the interpreter at import).
Everything here is plain Python that prepares a run (:mod:`plan`), starts and bounds it
(:mod:`runner`), reads what the locust processes recorded (:mod:`records`), computes the
statistics from raw response times (:mod:`stats`) and turns them into evidence
(:mod:`charts`, :mod:`evidence`). Only ``load/locustfile.py`` runs inside locust.
"""
