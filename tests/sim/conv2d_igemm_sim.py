#!/usr/bin/env python3
# Emulates kernels/cuda/conv2d.cu's conv_igemm_kernel on the CPU (numpy), block by block and thread by
# thread for the copies, tile by tile for the MMA, and compares with a direct convolution. Shared memory
# is one flat array addressed exactly as the kernel addresses it (ring stages, row padding, C aliasing
# the ring). An asynchronous copy poisons its destination (NaN) when issued and lands only at the
# cp.async.wait_group that covers its group, so reading a stage too early, or overwriting one still in
# use, shows up as NaN in the result.
import itertools
import numpy as np

kBK, kThreads, kStages = 32, 128, 3
kRow, kPadC = kBK + 8, 4


def k_padded(kh, kw, cin): return (kh * kw * cin + 31) // 32 * 32


def run(BM, BN, n, h, w, cin, cout, k, stride, vec8, out_vec8, residual, rng, splits=1):
    pad = k // 2; oh = (h + 2 * pad - k) // stride + 1; ow = (w + 2 * pad - k) // stride + 1
    x = rng.standard_normal((n, h, w, cin))
    W = rng.standard_normal((cout, k, k, cin))
    bias = rng.standard_normal(cout)
    res = rng.standard_normal((n, oh, ow, cout))
    Kt = k * k * cin; Kp = k_padded(k, k, cin)
    Wp = np.zeros((cout, Kp)); Wp[:, :Kt] = W.reshape(cout, Kt)  # k = (ky*kw+kx)*cin+ci
    M = n * oh * ow
    out = np.full((n, oh, ow, cout), np.nan)
    FM, FN = BM // 32, BN // 32
    A_TPR = kThreads // BM; A_K = kBK // A_TPR; B_TPR = kThreads // BN; B_K = kBK // B_TPR
    assert A_K % 8 == 0 and B_K % 8 == 0
    a_stage, b_stage = BM * kRow, BN * kRow
    ring_halfs = kStages * (a_stage + b_stage)
    smem_bytes = max(ring_halfs * 2, BM * (BN + kPadC) * 4)
    assert smem_bytes <= 48 * 1024
    num_k = Kp // kBK
    per_split = (num_k + splits - 1) // splits
    gx, gy = (M + BM - 1) // BM, (cout + BN - 1) // BN
    tiles = gx * gy
    partial = np.full((splits, tiles, BM * BN), np.nan)  # poisoned like the test's scratch
    counters = np.zeros(tiles, dtype=int)
    order = [(bx, by, z) for bx in range(gx) for by in range(gy) for z in range(splits)]
    rng.shuffle(order)  # blocks finish in any order
    for bx, by, bz in order:
        m0, n0 = bx * BM, by * BN
        kb_begin = bz * per_split; kb_end = min(num_k, kb_begin + per_split); nk = kb_end - kb_begin
        ring = np.full(ring_halfs, np.nan)
        pending = []  # (group, destination offset, values)
        group = 0

        def copy(dst, values):  # one cp.async (or a synchronous store when !vec8: lands at once)
            ring[dst:dst + len(values)] = np.nan
            pending.append((group, dst, np.asarray(values, dtype=float)))

        def wait(allowed):  # cp.async.wait_group: all but the newest `allowed` groups land
            nonlocal pending
            for g, dst, v in pending:
                if g < group - allowed: ring[dst:dst + len(v)] = v
            pending = [p for p in pending if p[0] >= group - allowed]

        # each thread's k position (ci, kx, ky): divided out once, then only advanced, as the kernel does
        def advance(pos, delta):
            ci, kx, ky = pos; ci += delta
            while ci >= cin:
                ci -= cin; kx += 1
                if kx == k: kx = 0; ky += 1
            return [ci, kx, ky]
        next_a = {}
        for tid in range(kThreads):
            kk = kb_begin * kBK + (tid % A_TPR) * A_K; tap = kk // cin
            next_a[tid] = [kk % cin, tap % k, tap // k]
        expect_kb = [kb_begin]

        def load_stage(s, kb):
            assert kb == expect_kb[0]; expect_kb[0] += 1  # k-blocks are loaded in increasing order
            for tid in range(kThreads):
                a_row = tid // A_TPR; a_col0 = (tid % A_TPR) * A_K
                m = m0 + a_row; m_ok = m < M
                b = oy = ox = 0
                if m_ok: ox = m % ow; oy = (m // ow) % oh; b = m // (ow * oh)
                pos = next_a[tid]
                kk = kb * kBK + a_col0
                assert (kk >= Kt) == (pos[2] >= k) and (kk >= Kt or (pos[2] * k + pos[1]) * cin + pos[0] == kk)  # same k as dividing
                a_dst = s * a_stage + a_row * kRow + a_col0
                step = 8 if vec8 else 1
                for j in range(0, A_K, step):
                    ci, kx, ky = pos
                    vals = np.zeros(step)
                    iy, ix = oy * stride - pad + ky, ox * stride - pad + kx
                    if m_ok and ky < k and 0 <= iy < h and 0 <= ix < w: vals = x[b, iy, ix, ci:ci + step]
                    assert len(vals) == step
                    if vec8: copy(a_dst + j, vals)
                    else: ring[a_dst + j] = vals[0]
                    pos = advance(pos, step)
                next_a[tid] = advance(pos, kBK - A_K)
                b_row = tid // B_TPR; b_col0 = (tid % B_TPR) * B_K
                co = n0 + b_row
                b_dst = kStages * a_stage + s * b_stage + b_row * kRow + b_col0
                for q in range(0, B_K, 8):
                    copy(b_dst + q, Wp[co, kb * kBK + b_col0 + q: kb * kBK + b_col0 + q + 8] if co < cout else np.zeros(8))

        C = np.zeros((BM, BN))
        for s in range(kStages - 1):
            if s < nk: load_stage(s, kb_begin + s)
            group += 1  # commit
        for t in range(nk):
            wait(kStages - 2)
            # __syncthreads(); then the next load, issued while this stage is read
            nxt = t + kStages - 1
            if nxt < nk: load_stage(nxt % kStages, kb_begin + nxt)
            group += 1
            a_off = (t % kStages) * a_stage; b_off = kStages * a_stage + (t % kStages) * b_stage
            for warp in range(4):
                wm, wn = warp // 2, warp % 2
                for kk2 in (0, 16):
                    for i, jj in itertools.product(range(FM), range(FN)):
                        r0 = wm * (BM // 2) + i * 16; c0 = wn * (BN // 2) + jj * 16
                        A = np.array([ring[a_off + (r0 + r) * kRow + kk2: a_off + (r0 + r) * kRow + kk2 + 16] for r in range(16)])
                        B = np.array([ring[b_off + (c0 + c) * kRow + kk2: b_off + (c0 + c) * kRow + kk2 + 16] for c in range(16)])
                        C[r0:r0 + 16, c0:c0 + 16] += A @ B.T
        wait(0)
        ldc = BN + kPadC
        assert (BM - 1) * ldc + BN <= smem_bytes // 4  # C fits in the aliased ring
        cs = np.full(smem_bytes // 4, np.nan); cs[[r * ldc + c for r in range(BM) for c in range(BN)]] = C.reshape(-1)
        if splits > 1:  # publish the partial; the last split of the tile to arrive sums them in split order
            tile = by * gx + bx
            partial[bz, tile] = [cs[e // BN * ldc + e % BN] for e in range(BM * BN)]
            arrived = counters[tile]; counters[tile] += 1
            if arrived != splits - 1: continue
            for e in range(BM * BN):
                v = 0.0
                for sp in range(splits): v += partial[sp, tile, e]
                cs[e // BN * ldc + e % BN] = v
            counters[tile] = 0
        vec = 8 if out_vec8 else 1
        row_pixel = [None] * BM  # written by the A threads (tid % A_TPR == 0) from their decoded row, as row_out
        for tid in range(0, kThreads, A_TPR):
            m = m0 + tid // A_TPR
            row_pixel[tid // A_TPR] = (m // (ow * oh), (m // ow) % oh, m % ow) if m < M else None
        assert all(r is not None or m0 + i >= M for i, r in enumerate(row_pixel))
        for e in range(BM * BN // vec):
            r, c = e // (BN // vec), e % (BN // vec) * vec
            co = n0 + c
            if row_pixel[r] is None or co >= cout: continue
            bb, y, xx = row_pixel[r]
            for q in range(vec):
                v = cs[r * ldc + c + q] + bias[co + q]
                v = v / (1 + np.exp(-v))
                if residual: v += res[bb, y, xx, co + q]
                assert np.isnan(out[bb, y, xx, co + q])  # written once
                out[bb, y, xx, co + q] = v
    ref = np.zeros((n, oh, ow, cout))
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    for b, y, xx in itertools.product(range(n), range(oh), range(ow)):
        patch = xp[b, y * stride:y * stride + k, xx * stride:xx * stride + k, :]
        ref[b, y, xx] = W.reshape(cout, -1) @ patch.reshape(-1) + bias
    ref = ref / (1 + np.exp(-ref)) + (res if residual else 0)
    assert not counters.any()
    return np.abs(out - ref).max(), np.isnan(out).any()


rng = np.random.default_rng(0)
cases = [  # n, h, w, cin, cout, k, stride, vec8 loads, vec8 stores, residual
    (1, 9, 11, 3, 16, 3, 2, False, True, False),    # the stem
    (2, 5, 7, 20, 40, 3, 1, False, True, True),     # odd channels
    (1, 6, 5, 37, 69, 1, 1, False, False, True),
    (2, 5, 7, 64, 48, 3, 2, True, True, True),      # 18 k-blocks: the ring goes round six times
    (1, 4, 3, 32, 70, 1, 1, True, False, False),
    (1, 3, 4, 160, 24, 1, 1, True, True, True),
    (1, 2, 3, 8, 8, 3, 1, True, True, False),       # 3 k-blocks: exactly the ring
    (1, 3, 3, 8, 8, 1, 1, True, True, True),        # one k-block: fewer blocks than stages
]
bad = 0
for BM, BN in ((128, 64), (64, 64), (64, 32), (32, 32)):
    for case in cases:
        err, nan = run(BM, BN, *case, rng)
        ok = err < 1e-9 and not nan
        bad += not ok
        print(BM, BN, case, 'max err %.2e' % err, 'NaN' if nan else '', 'ok' if ok else 'FAIL')
for case, splits in [((2, 5, 7, 64, 48, 3, 2, True, True, True), 4), ((1, 3, 4, 160, 24, 1, 1, True, True, True), 2),
                     ((1, 9, 11, 3, 16, 3, 2, False, True, False), 1), ((2, 7, 9, 96, 136, 3, 1, True, True, True), 6)]:
    nk = (case[5] ** 2 * case[3] + 31) // 32
    splits = (nk + (nk + splits - 1) // splits - 1) // ((nk + splits - 1) // splits)  # as conv_split makes them
    err, nan = run(32, 32, *case, rng, splits=splits)
    ok = err < 1e-9 and not nan
    bad += not ok
    print('split-K', splits, case, 'max err %.2e' % err, 'NaN' if nan else '', 'ok' if ok else 'FAIL')
raise SystemExit(1 if bad else 0)
