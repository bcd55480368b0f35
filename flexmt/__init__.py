"""flexmt: multitask leaky RNNs, their fixed points and dynamical motifs.

The reproducible companion to Driscoll, Shenoy & Sussillo (2024), "Flexible multitask
computation in recurrent networks utilizes shared dynamical motifs", Nature Neuroscience.
"""

import os

# oneDNN's custom CPU kernels change float rounding (and crashed here); flexmt's networks are
# defined by the plain kernels. Must be set before TensorFlow is first imported.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

from flexmt.checkpoint import load_network  # noqa: E402

__all__ = ["__version__", "load_network"]
