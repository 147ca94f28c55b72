@rollout @trading @canary
Feature: The trading canary
  Guide §8.2 names five application metrics: requests, errors, latency, trades and P&L.
  A release that answers every request fast and without errors can still trade wrongly, so
  the release's own decisions are judged in every phase (guide §2.2), paired by bar with
  the stable version's on the same market:
    the canary's signals agree with the stable version's on at least 95 % of bars
    the canary trades at between 0.5 and 2 times the stable version's rate per bar per pod
    the canary's orders are rejected no more often than the stable version's plus 2 points
    a canary order above the volume limit rolls back at once (as do the notional limit,
      the price collar, the position limit and the message rate: EU RTS 6 Art. 15)
    the canary's drawdown since it began trading stays within the budget (500 USD)
    a closed market during a phase gives INCONCLUSIVE, never PASS
  A rollback for a trading reason halts the canary's trading first (kill switch, open
  orders cancelled), then its weight goes to 0 and the undo runs. The names of the bot's
  decision record and kill switch, and every number, come from the environment's
  `trading:` section; a deliberate model change states its expected agreement.

  @destructive
  Scenario: A healthy canary trades like the stable version and is promoted
    Given the market is open
    And steady trading traffic of 50 requests per second to the trading bot service
    And production runs the previous release
    When the release under test rolls out as a canary
    Then every canary phase judged the release's trading beside the stable version's
    And the canary's signals agree with the stable version's on at least 95 % of bars
    And the canary's orders stayed within the pre-trade limits
    And the canary is promoted

  @destructive @rehearsal
  Scenario Outline: A canary that trades wrongly is halted and rolled back: <fault>
    Given the market is open
    And steady trading traffic of 50 requests per second to the trading bot service
    When the faulty build "<build>" of the release rolls out as a canary
    Then the "<trigger>" rollback trigger fails
    And the canary's trading was halted before its traffic shifted back
    And the canary is rolled back automatically
    And the previous revision is back, Ready and serving

    Examples:
      | fault                                   | build     | trigger          |
      | one signal in five flipped              | flip      | signal agreement |
      | three times the stable trade rate       | overtrade | trade rate       |
      | orders ten times too large              | oversize  | pre-trade limits |
      | every fill 50 basis points worse        | slippage  | P&L drawdown     |

  @destructive @rehearsal
  Scenario: A canary that ignores its kill switch is scaled to 0 before the undo
    Given the market is open
    And steady trading traffic of 50 requests per second to the trading bot service
    When the faulty build "nokill" of the release rolls out as a canary
    Then the "pre-trade limits" rollback trigger fails
    And the halt is shown ignored, with the orders placed after it
    And the canary is rolled back automatically
    And the previous revision is back, Ready and serving

  @destructive @rehearsal
  Scenario: A retrained model that agrees on about 97 % of bars passes when the release states 90 %
    Given the market is open
    And steady trading traffic of 50 requests per second to the trading bot service
    And production runs the previous release
    And the release states an expected signal agreement of 90 %
    When the faulty build "retrained" of the release rolls out as a canary
    Then every canary phase judged the release's trading beside the stable version's
    And the canary is promoted

  @destructive @rehearsal
  Scenario: A closed market during a phase gives INCONCLUSIVE, never PASS
    Given the market is closed
    When the running release is watched for the monitoring window
    Then the trading checks are INCONCLUSIVE, never PASS, naming the closed market
