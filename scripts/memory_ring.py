"""Print the Memory-period fixed points of a trained MemoryPro network: a ring attractor.

.venv/bin/python scripts/memory_ring.py [NETWORK]     (default: zoo network memorypro-seed0)
"""

import sys

import numpy as np

from flexmt import fixed_points, zoo

net = zoo.load(sys.argv[1] if len(sys.argv) > 1 else "memorypro-seed0")
found = fixed_points.task_period_fixed_points(net, np.random.default_rng(0), tasks=["MemoryPro"])
ring = found[("delaygo", "Memory")].select_q(1e-6)
centred = ring.xstar - ring.xstar.mean(axis=0)
_, s, vt = np.linalg.svd(centred, full_matrices=False)
plane = centred @ vt[:2].T
radius = np.linalg.norm(plane, axis=1)
angles = np.sort(np.mod(np.arctan2(plane[:, 1], plane[:, 0]), 2 * np.pi))
gap = np.degrees(np.max(np.diff(np.r_[angles, angles[0] + 2 * np.pi])))
print(f"Memory-period fixed points with q < 1e-6: {len(ring)} ({ring.is_stable.sum()} stable)")
print(f"share of their variance in the top 2 PCs: {(s[:2] ** 2).sum() / (s**2).sum():.3f}")
print(f"radius in that plane: mean {radius.mean():.3f}, sd {radius.std():.3f}")
print(f"largest angular gap around the ring: {gap:.1f} degrees")
print(f"median of max |λ|: {np.median(np.abs(ring.eigenvalues[:, 0])):.4f}")
