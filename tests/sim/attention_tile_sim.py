#!/usr/bin/env python3
# Emulates kernels/cuda/attention.cu's attention_tile_kernel on the CPU (numpy), thread by thread: the
# query/key-group split, chunks of 8 keys with one rescale each, the merge of the 8 key groups through
# shared memory (arrays poisoned with NaN first), the 16 x head_dim output loop; compared with softmax.
import numpy as np

Q, G, CH = 16, 8, 8  # kTileQueries, kKeyGroups, kChunk
KDM, HDM = 32, 64    # kTileKeyDim, kTileHeadDim


def run(tokens, key_dim, head_dim, rng):
    q = rng.standard_normal((tokens, key_dim)); k = rng.standard_normal((tokens, key_dim))
    v = rng.standard_normal((tokens, head_dim)); scale = key_dim ** -0.5
    out = np.full((tokens, head_dim), np.nan)
    for bx in range((tokens + Q - 1) // Q):
        part_max = np.full((G, Q), np.nan); part_sum = np.full((G, Q), np.nan)
        part_acc = np.full((G * Q, HDM + 1), np.nan)
        state = {}
        for tid in range(Q * G):
            qi, g = tid % Q, tid // Q
            n = bx * Q + qi; active = n < tokens
            qr = np.zeros(KDM); acc = np.zeros(HDM)
            if active: qr[:key_dim] = q[n]; qr *= scale
            run_max, run_sum = -np.inf, 0.0
            m0 = g
            while active and m0 < tokens:
                s = np.full(CH, -np.inf); chunk_max = -np.inf
                for c in range(CH):
                    m = m0 + c * G
                    if m < tokens:
                        kr = np.zeros(KDM); kr[:key_dim] = k[m]
                        s[c] = qr @ kr; chunk_max = max(chunk_max, s[c])
                new_max = max(run_max, chunk_max); assert np.isfinite(new_max)
                corr = np.exp(run_max - new_max)
                run_sum *= corr; acc *= corr
                for c in range(CH):
                    m = m0 + c * G
                    if m >= tokens: continue
                    p = np.exp(s[c] - new_max); run_sum += p
                    vr = np.zeros(HDM); vr[:head_dim] = v[m]
                    acc += p * vr
                run_max = new_max
                m0 += CH * G
            part_max[g, qi] = run_max
            state[tid] = (run_max, run_sum, acc)
        for tid in range(Q * G):  # after the first barrier
            qi, g = tid % Q, tid // Q
            run_max, run_sum, acc = state[tid]
            best = part_max[:, qi].max()
            f = 0.0 if run_max == -np.inf else np.exp(run_max - best)
            part_sum[g, qi] = run_sum * f
            part_acc[g * Q + qi, :HDM] = acc * f
        for tid in range(Q * G):  # after the second barrier
            for e in range(tid, Q * head_dim, Q * G):
                qq, d = e // head_dim, e % head_dim
                nn = bx * Q + qq
                if nn >= tokens: break
                ssum = sum(part_sum[j, qq] for j in range(G)); o = sum(part_acc[j * Q + qq, d] for j in range(G))
                assert np.isnan(out[nn, d])
                out[nn, d] = o / ssum
    sc = (q * scale) @ k.T
    p = np.exp(sc - sc.max(1, keepdims=True))
    ref = (p / p.sum(1, keepdims=True)) @ v
    return np.abs(out - ref).max(), np.isnan(out).any()


rng = np.random.default_rng(1)
bad = 0
for tokens, kd, hd in [(400, 32, 64), (63, 16, 24), (5, 8, 8), (1, 8, 16), (129, 32, 64), (16, 24, 40)]:
    err, nan = run(tokens, kd, hd, rng)
    ok = err < 1e-12 and not nan
    bad += not ok
    print(tokens, kd, hd, 'max err %.2e' % err, 'NaN' if nan else '', 'ok' if ok else 'FAIL')
raise SystemExit(1 if bad else 0)
