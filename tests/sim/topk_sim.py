#!/usr/bin/env python3
# Emulates kernels/cuda/topk.cu's top_k_kernel (one block of 1024 threads; radix passes of 8 bits) on the CPU and compares with
# the CPU twin's rule: k largest, descending, equal keys in ascending index order.
import numpy as np
T = 1024
def orderable(f):
    b = np.float32(f).view(np.uint32).item()
    if f != f: return 0
    return (~b) & 0xFFFFFFFF if b & 0x80000000 else b | 0x80000000
def topk_kernel(x, k):
    n = len(x); u = [orderable(v) for v in x]
    prefix = mask = 0; remaining = k
    for shift in (24, 16, 8, 0):  # radix passes, as the kernel: histogram of the next digit, then the lanes' scan
        hist = [0] * 256
        for v in u:
            if (v & mask) == prefix: hist[(v >> shift) & 255] += 1
        own = [sum(hist[255 - 8 * l - j] for j in range(8)) for l in range(32)]
        inclusive = list(np.cumsum(own))
        found = None
        for lane in range(32):
            above = inclusive[lane] - own[lane]
            if above < remaining <= above + own[lane]:
                assert found is None  # exactly one lane
                for j in range(8):
                    d = 255 - 8 * lane - j
                    if remaining <= above + hist[d]: found = (d, above); break
                    above += hist[d]
        assert found is not None
        prefix |= found[0] << shift; mask |= 255 << shift; remaining -= found[1]
    t = prefix
    assert sum(1 for v in u if v >= t) >= k and sum(1 for v in u if v > t) < k  # t is the k-th largest
    chunk = (n + T - 1)//T
    gt = [0]*T; eq = [0]*T
    for th in range(T):
        for i in range(th*chunk, min(n, th*chunk+chunk)):
            gt[th] += u[i] > t; eq[th] += u[i] == t
    gt_before = np.concatenate([[0], np.cumsum(gt)[:-1]]); eq_before = np.concatenate([[0], np.cumsum(eq)[:-1]])
    total_gt = sum(gt); need_eq = k - total_gt
    assert 0 <= total_gt < k and need_eq >= 1
    sk = [None]*2048; si = [None]*2048
    for th in range(T):
        g, e = gt_before[th], eq_before[th]
        for i in range(th*chunk, min(n, th*chunk+chunk)):
            if u[i] > t: sk[g], si[g] = u[i], i; g += 1
            elif u[i] == t:
                if e < need_eq: sk[total_gt+e], si[total_gt+e] = u[i], i
                e += 1
    p = 1
    while p < k: p <<= 1
    for i in range(k, p): sk[i], si[i] = 0, 0x7fffffff
    assert all(v is not None for v in sk[:p])
    size = 2
    while size <= p:
        stride = size//2
        while stride > 0:
            for i in range(p):
                j = i ^ stride
                if j > i:
                    a_first = sk[i] > sk[j] or (sk[i] == sk[j] and si[i] < si[j])
                    descending = (i & size) == 0
                    if descending != a_first:
                        sk[i], sk[j] = sk[j], sk[i]; si[i], si[j] = si[j], si[i]
            stride //= 2
        size <<= 1
    return si[:k]
def twin(x, k):
    idx = sorted(range(len(x)), key=lambda i: (-x[i], i))
    return idx[:k]
rng = np.random.default_rng(1)
for n, k, levels in ((3000, 300, 40), (1008, 1008, 10**6), (37, 5, 3), (5000, 2048, 7), (300, 300, 2), (2500, 1, 5)):
    x = [float(np.float32(v)) for v in (rng.integers(0, levels, n) * 0.37 - levels * 0.1)]
    got, want = topk_kernel(x, k), twin(x, k)
    print(n, k, levels, 'OK' if got == want else 'MISMATCH')
# scores as the head gives them: sigmoids crowd into a few top digits; some exact ties; a NaN ranks last
x = [float(np.float32(1 / (1 + np.exp(-v)))) for v in rng.standard_normal(24000) * 3]
x[5] = x[7] = x[11]; x[100] = float('nan')
for k in (300, 1, 2048):
    got, want = topk_kernel(x, k), twin([v if v == v else -np.inf for v in x], k)
    print(24000, k, 'sigmoids', 'OK' if got == want else 'MISMATCH')

