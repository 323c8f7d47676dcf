"""The notebook suite: the paper's experiments as papermill runs of ``notebooks/``, at a scale.

Modules, from the bottom layer up (``rtmposelib.experiments`` sits between the primitives and the plan):

* :mod:`~rtmposelib.suite.paths` -- where the project's notebooks live.
* :mod:`~rtmposelib.suite.scales` -- the run tiers (smoke, cpu, paper) and how a config is sized to one.
* :mod:`~rtmposelib.suite.results` -- reading and writing run records under ``results/<scale>/``.
* :mod:`~rtmposelib.suite.paper` -- the paper's published numbers, for side-by-side tables.
* :mod:`~rtmposelib.suite.viz` -- the paper's figures redrawn from our measurements.
* :mod:`~rtmposelib.suite.plan` -- which notebook runs make up a tier, and their dependencies.
* :mod:`~rtmposelib.suite.runner` -- ``rtmpose suite``: executes a plan with papermill, cached.

This package imports none of them, so that lower layers can use the primitives without loading the runner.
"""
