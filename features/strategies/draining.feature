@rollout @destructive
Feature: Connection draining while a pod terminates
  Guide §7.3 Load Balancing "connection draining: 30-second drain timeout": a pod that
  terminates (scale-in, rolling update, eviction) leaves the Service's endpoints and
  finishes the requests it holds; nobody sees a refused connection, a reset or a 5xx.
  Measured, not read from the spec: slow requests stream through the Service while one
  pod is deleted and drains for strategy.drain_timeout_s. (Whether the manifest's
  terminationGracePeriodSeconds and preStop leave room for the drain is the spec rule
  termination-grace of `goldgate check manifests`.) Deletes a pod: needs --allow-mutations.

  Scenario: In-flight requests finish while a pod terminates
    Given the trading bot answers API requests in about 800 ms
    When one trading bot pod is deleted while 20 requests per second are in flight
    Then no request failed while the pod terminated
