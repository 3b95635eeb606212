#!/usr/bin/env python3
"""The online softmax of one query row, step by step (docs/lessons/05-online-softmax.md).

One row i of S = tau Q K^T (already scaled), N = 16 keys in T_c = 4 blocks of B_c = 4 (the classroom
machine's FlashAttention tiles), and one column of V, so O_i is one number per step. Prints, for each
K/V block j, what Algorithm 1 computes (lines 9-12): m~_ij, P~_ij, l~_ij, the new m_i and l_i, the two
rescale factors, and O_i; then the softmax of the whole row computed directly, for comparison.

    python3 scripts/lesson_softmax.py                       # the lesson's numbers
    python3 scripts/lesson_softmax.py --s 1,3,0,2,... --v 1,0,... --bc 4
"""
import argparse
import math


def fmt(xs):
    return "[" + ", ".join(f"{x:.4f}" for x in xs) + "]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--s", default="1,3,0,2,4,1,1,0,2,5,3,1,0,1,2,2", help="one row of S, comma-separated")
    ap.add_argument("--v", default="1,0,2,1,3,0,1,2,0,4,1,0,2,1,0,3", help="one column of V")
    ap.add_argument("--bc", type=int, default=4, help="B_c, keys per block")
    a = ap.parse_args()
    s = [float(x) for x in a.s.split(",")]
    v = [float(x) for x in a.v.split(",")]
    assert len(s) == len(v), "S row and V column need the same length N"
    n, bc = len(s), a.bc
    t_c = -(-n // bc)
    print(f"N = {n}, B_c = {bc}, T_c = {t_c}; start: m_i = -inf, l_i = 0, O_i = 0")
    m, l, o, o2 = -math.inf, 0.0, 0.0, 0.0  # o: Algorithm 1's O_i; o2: FA2's unnormalised O~_i
    for j in range(t_c):
        sj, vj = s[j * bc:(j + 1) * bc], v[j * bc:(j + 1) * bc]
        mt = max(sj)                                   # m~_ij = rowmax(S_ij)
        pt = [math.exp(x - mt) for x in sj]            # P~_ij = exp(S_ij - m~_ij)
        lt = sum(pt)                                   # l~_ij = rowsum(P~_ij)
        m_new = max(m, mt)
        a_old = math.exp(m - m_new) if m > -math.inf else 0.0  # e^(m_i - m_new)
        a_new = math.exp(mt - m_new)                   # e^(m~_ij - m_new)
        l_new = a_old * l + a_new * lt
        pv = sum(p * x for p, x in zip(pt, vj))        # P~_ij V_j
        o = (l * a_old * o + a_new * pv) / l_new       # Algorithm 1, line 12
        o2 = a_old * o2 + a_new * pv                   # FA2: rescale only, divide by l_i at the end
        print(f"j = {j + 1}: S_ij = {fmt(sj)}")
        print(f"       m~_ij = {mt:.4f}  P~_ij = {fmt(pt)}  l~_ij = {lt:.4f}  P~_ij V_j = {pv:.4f}")
        print(f"       m_new = {m_new:.4f}  e^(m_i - m_new) = {a_old:.4f}  e^(m~_ij - m_new) = {a_new:.4f}")
        print(f"       l_new = {a_old:.4f} * {l:.4f} + {a_new:.4f} * {lt:.4f} = {l_new:.4f}")
        print(f"       O_i (Algorithm 1) = {o:.6f}   O~_i (FlashAttention-2, not yet divided by l_i) = {o2:.6f}")
        m, l = m_new, l_new
    print(f"FlashAttention-2 at the end: O_i = O~_i / l_i = {o2:.6f} / {l:.4f} = {o2 / l:.6f}")
    mx = max(s)
    e = [math.exp(x - mx) for x in s]
    z = sum(e)
    p = [x / z for x in e]
    o_ref = sum(pi * x for pi, x in zip(p, v))
    print(f"direct: max = {mx:.4f}  sum of exp(S - max) = {z:.4f}  O = P V = {o_ref:.6f}")
    print(f"        P = {fmt(p)}")
    same = all(abs(x) < 1e-12 for x in (m - mx, l - z, o - o_ref, o2 / l - o_ref))
    print(f"online = direct (m_i, l_i and O_i within 1e-12): {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
