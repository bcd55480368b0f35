"""flexmt: multitask leaky RNNs, their fixed points and dynamical motifs.

The reproducible companion to Driscoll, Shenoy & Sussillo (2024), "Flexible multitask
computation in recurrent networks utilizes shared dynamical motifs", Nature Neuroscience.
"""

__version__ = "0.1.0"

from flexmt.checkpoint import load_network  # noqa: E402

__all__ = ["__version__", "load_network"]
