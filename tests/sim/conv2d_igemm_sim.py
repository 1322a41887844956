#!/usr/bin/env python3
# Emulates kernels/cuda/conv2d.cu's conv_igemm_kernel index math on the CPU (numpy), block by block and
# thread by thread for the loads, tile by tile for the MMA, and compares with a direct convolution.
import numpy as np, itertools
kBK = 32; kThreads = 128
def k_padded(kh, kw, cin): return (kh*kw*cin + 31)//32*32
def run(BM, BN, n, h, w, cin, cout, k, stride, vec8, rng):
    pad = k//2; oh = (h+2*pad-k)//stride+1; ow = (w+2*pad-k)//stride+1
    x = rng.standard_normal((n, h, w, cin)).astype(np.float32)
    W = rng.standard_normal((cout, k, k, cin)).astype(np.float32)
    Kt = k*k*cin; Kp = k_padded(k, k, cin)
    Wp = np.zeros((cout, Kp), np.float32); Wp[:, :Kt] = W.reshape(cout, Kt)  # k = (ky*kw+kx)*cin+ci
    M = n*oh*ow
    out = np.full((M, cout), np.nan, np.float32)
    A_TPR = kThreads//BM; A_K = kBK//A_TPR; B_TPR = kThreads//BN; B_K = kBK//B_TPR
    for bx in range((M+BM-1)//BM):
        for by in range((cout+BN-1)//BN):
            m0 = bx*BM; n0 = by*BN
            C = np.zeros((BM, BN), np.float32)
            for k0 in range(0, Kp, kBK):
                As = np.full((BM, kBK), np.nan, np.float32); Bs = np.full((BN, kBK), np.nan, np.float32)
                for tid in range(kThreads):
                    a_row = tid // A_TPR; a_col0 = (tid % A_TPR)*A_K
                    m = m0 + a_row; m_ok = m < M
                    b = oy = ox = 0
                    if m_ok: ox = m % ow; oy = (m//ow) % oh; b = m//(ow*oh)
                    kk = k0 + a_col0; ci = kk % cin; tap = kk // cin
                    step = 8 if vec8 else 1
                    for j in range(0, A_K, step):
                        for q in range(step):
                            v = 0.0
                            kq = kk + q
                            if m_ok and kq < Kt:
                                ky, kx = tap//k, tap % k
                                iy, ix = oy*stride-pad+ky, ox*stride-pad+kx
                                if 0 <= iy < h and 0 <= ix < w: v = x[b, iy, ix, ci + q]
                            As[a_row, a_col0 + j + q] = v
                        kk += step; ci += step
                        if ci == cin: ci = 0; tap += 1
                        assert ci < cin
                    b_row = tid // B_TPR; b_col0 = (tid % B_TPR)*B_K
                    co = n0 + b_row
                    Bs[b_row, b_col0:b_col0+B_K] = Wp[co, k0+b_col0:k0+b_col0+B_K] if co < cout else 0
                assert not np.isnan(As).any() and not np.isnan(Bs).any()
                # warps 2x2, each (BM/2)x(BN/2) of 16x16 fragments, kk 0 and 16
                for warp in range(4):
                    wm, wn = warp//2, warp % 2
                    for kk2 in (0, 16):
                        for i in range(BM//32):
                            for jj in range(BN//32):
                                r0 = wm*(BM//2)+i*16; c0 = wn*(BN//2)+jj*16
                                C[r0:r0+16, c0:c0+16] += As[r0:r0+16, kk2:kk2+16] @ Bs[c0:c0+16, kk2:kk2+16].T
            for e in range(BM*BN):
                r, c = e//BN, e % BN
                mm, co = m0+r, n0+c
                if mm < M and co < cout: out[mm, co] = C[r, c]
    ref = np.zeros((M, cout), np.float32)
    xp = np.pad(x, ((0,0),(pad,pad),(pad,pad),(0,0)))
    for b, y, xx in itertools.product(range(n), range(oh), range(ow)):
        patch = xp[b, y*stride:y*stride+k, xx*stride:xx*stride+k, :]
        ref[(b*oh+y)*ow+xx] = W.reshape(cout, -1) @ patch.reshape(-1)
    err = np.abs(out-ref).max()
    return err, np.isnan(out).any()
rng = np.random.default_rng(0)
for BM, BN in ((64, 64), (32, 32)):
    for (n,h,w,cin,cout,k,s,vec) in [(1,9,11,3,16,3,2,False),(2,5,7,20,40,3,1,False),(1,6,5,37,69,1,1,False),(2,5,7,64,48,3,2,True),(1,4,3,32,70,1,1,True),(1,3,4,160,20,1,1,True)]:
        err, nan = run(BM, BN, n,h,w,cin,cout,k,s,vec,rng)
        print(BM, BN, (n,h,w,cin,cout,k,s,vec), 'max err %.2e' % err, 'NaN' if nan else 'ok')
