"""The trading canary's criteria: judge what a release trades, not only how it answers.

Stable and canary read the same market feed and decide on the same bars, so a release can
be held against the version beside it decision by decision (guide §8.2 trades and P&L,
§6.1 automatic rollback, EU RTS 6 Art. 15 pre-trade controls). One module per rule:

* :mod:`.records`   - the plain records the probes fill (Decision, Order, TrackStream,
  TradingLimits); nothing there decides.
* :mod:`.agreement` - signal agreement paired by bar and symbol: a confidence sequence;
  FAIL when its upper bound is below ``min_agreement`` (false-rollback bound alpha per phase).
* :mod:`.rates`   - canary vs stable orders per unit of exposure, exact conditional
  binomial per poll (shared bursts cancel), anytime-valid on the ratio bounds.
* :mod:`.rejects`   - reject rate not above stable's by more than the margin; a bet on the
  paired per-poll difference (shared bursts cancel).
* :mod:`.limits`    - pre-trade hard guards: FAIL on the first breach, naming order, value, limit.
* :mod:`.pnl`       - the canary's drawdown against the budget; P&L vs stable shown only.
* :mod:`.market`    - a closed market or too few bars: INCONCLUSIVE naming the cause.

Stateful tests are small classes (``observe(...) -> state``) and a registered function turns a
state into a Verdict; every verdict shows the value, the threshold and the sample counts.
"""

from goldgate.criteria.trading.agreement import (
    AGREEMENT,
    AgreementPlan,
    AgreementState,
    SignalAgreement,
    signal_agreement,
    signal_agreement_of,
)
from goldgate.criteria.trading.limits import LIMITS, pre_trade_limits
from goldgate.criteria.trading.market import MARKET, trading_evidence
from goldgate.criteria.trading.pnl import DRAWDOWN, pnl_drawdown
from goldgate.criteria.trading.rates import (
    TRADE_RATE,
    TradeRate,
    TradeRatePlan,
    TradeRateState,
    trade_rate,
)
from goldgate.criteria.trading.records import Decision, Order, TrackStream, TradingLimits
from goldgate.criteria.trading.rejects import (
    REJECTS,
    OrderRejects,
    RejectPlan,
    RejectState,
    order_rejects,
)

__all__ = [
    "AGREEMENT", "DRAWDOWN", "LIMITS", "MARKET", "REJECTS", "TRADE_RATE",
    "AgreementPlan", "AgreementState", "Decision", "Order", "OrderRejects", "RejectPlan", "RejectState",
    "SignalAgreement", "TrackStream", "TradeRate", "TradeRatePlan", "TradeRateState", "TradingLimits",
    "order_rejects", "pnl_drawdown", "pre_trade_limits", "signal_agreement", "signal_agreement_of", "trade_rate",
    "trading_evidence",
]
