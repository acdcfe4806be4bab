"""geoplanner: plan preventive family support in Brussels.

The modules follow the data flow: :mod:`~geoplanner.inputs.bundle` and :mod:`~geoplanner.inputs`
(get and validate data) → :mod:`~geoplanner.need` (young children, deprivation, priority
wijken) → network and accessibility → siting → maps and reports.
"""

__version__ = "0.1.0"
