"""The risk process: positions and P&L (position.py), pre-trade limits on every ladder
(limits.py), trading state and operator commands (agent.py)."""
