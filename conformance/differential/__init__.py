"""The differential runner: random programs of C-API calls on two or more C-API stacks at once, compared after
every call (``conformance differential --stack engine --stack libssl``).

Modules: :mod:`.program` (steps, set-ups, hypothesis strategies, rendering as Python and C), :mod:`.world` (one
stack's client and server over BIOs, the link, the observations), :mod:`.runner` (lock-step execution, comparison,
hypothesis), :mod:`.table` (the divergence table, ``conformance/expectations/divergences.toml``), :mod:`.command`
(the subcommand and its records).
"""
