"""Pure decision logic: a measured number (or a list of facts) in, a Verdict out. No I/O.

One module per kind of decision (threshold, sprt, latency, health, resources, ...);
``measured`` maps a metric source's Measurement onto them (ERROR / INCONCLUSIVE / decide).
"""
