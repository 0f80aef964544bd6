#!/usr/bin/env python3
"""Generate vm/src/math/tables.rs: every table and constant the fixed-point kernels use.

    python3 vm/tools/gen_math_tables.py            # rewrites vm/src/math/tables.rs
    python3 vm/tools/gen_math_tables.py --check    # exits 1 if the committed file differs

Needs mpmath (pinned in tests/reference/requirements.txt). Every value is computed at 120
significant digits and rounded to nearest once, so each table entry is correctly rounded at
its stated scale. The piecewise polynomials are Chebyshev interpolants converted to the
monomial basis of the local variable u in [-1, 1); after quantising the coefficients the
script replays the kernel's exact fixed-point Horner evaluation (same shifts, same floor
rounding) on a dense grid and refuses to write a table whose error exceeds its target.
spec/numerics.md describes how the kernels use each table.
"""
import argparse
import os
import sys

from mpmath import mp, mpf

mp.dps = 120
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "math", "tables.rs")


def rnd(v):
    """Round an mpf to the nearest integer (values here are never exact ties)."""
    return int(mp.nint(v))


def limbs3(v):
    assert 0 <= v < 1 << 192
    return [(v >> (64 * i)) & ((1 << 64) - 1) for i in range(3)]


def hex3(v):
    a, b, c = limbs3(v)
    return f"[0x{a:016x}, 0x{b:016x}, 0x{c:016x}]"


def i128_hex(v):
    assert -(1 << 127) <= v < 1 << 127
    return f"-0x{-v:032x}" if v < 0 else f"0x{v:032x}"


def u128_hex(v):
    assert 0 <= v < 1 << 128
    return f"0x{v:032x}"


# ---------------------------------------------------------------- exp
EXP_N_MIN, EXP_N_MAX = -46, 43
EXP_POLY_DEGREE = 11  # U(c) = sum_{k=0}^{11} c^k/(k+2)!  -> remainder c^14/14! < 2^-148


def exp_tables():
    ints = []
    for n in range(EXP_N_MIN, EXP_N_MAX + 1):
        v = mp.exp(n)
        k = int(mp.floor(mp.log(v, 2)))
        m = rnd(v * mpf(2) ** (191 - k))
        if m >= 1 << 192:  # rounding carried into a new bit
            m >>= 1
            k += 1
        assert 1 << 191 <= m < 1 << 192
        ints.append((m, k))
    fracs = [rnd(mp.exp(mpf(j) / 256) * mpf(2) ** 190) for j in range(256)]
    poly = [rnd(mpf(2) ** 128 / mp.factorial(k + 2)) for k in range(EXP_POLY_DEGREE + 1)]
    return ints, fracs, poly


# ---------------------------------------------------------------- ln
LOG1P_G_DEGREE = 12  # log1p(t) = t - t^2 G(t), G = sum_{k=0}^{12} (-t)^k/(k+2): tail < 2^-107 G


def ln_tables():
    recips, logs = [], []
    for j in range(256):
        r = rnd(mpf(2) ** 64 / (1 + (mpf(j) + mpf(1) / 2) / 256))
        assert r < 1 << 64
        recips.append(r)
        logs.append(rnd(-mp.log(mpf(r) / mpf(2) ** 64) * mpf(2) ** 127))
    g = [rnd((-1) ** k * mpf(2) ** 126 / (k + 2)) for k in range(LOG1P_G_DEGREE + 1)]
    return recips, logs, g


# ---------------------------------------------------------------- piecewise polynomials
COEFF_SCALE = 120  # coefficients and results are i128 at 2^-120


def cheb_monomial(f, a, b, deg):
    """Chebyshev interpolant of f on [a, b] in the monomial basis of u = (x - c)/h."""
    c, h = (a + b) / 2, (b - a) / 2
    n = deg + 1
    nodes = [mp.cos(mp.pi * (i + mpf(1) / 2) / n) for i in range(n)]
    vals = [f(c + h * u) for u in nodes]
    cheb = []
    for k in range(n):
        s = mp.fsum(vals[i] * mp.cos(mp.pi * k * (i + mpf(1) / 2) / n) for i in range(n))
        cheb.append(2 * s / n)
    cheb[0] /= 2
    # T_0 = 1, T_1 = u, T_{k+1} = 2u T_k - T_{k-1}, each as a coefficient list.
    basis = [[mpf(1)], [mpf(0), mpf(1)]]
    while len(basis) < n:
        prev, cur = basis[-2], basis[-1]
        nxt = [mpf(0)] + [2 * v for v in cur]
        for i, v in enumerate(prev):
            nxt[i] -= v
        basis.append(nxt)
    mono = [mpf(0)] * n
    for k in range(n):
        for i, v in enumerate(basis[k]):
            mono[i] += cheb[k] * v
    return mono


def horner_fixed(coeffs, u63):
    """The kernel's evaluation, bit for bit: p = a_k + floor(p * u / 2^63)."""
    p = coeffs[-1]
    for a in reversed(coeffs[:-1]):
        p = a + ((p * u63) >> 63)
    return p


def fit_piecewise(name, f, start, log2_width, count, target_bits, samples=160, max_degree=40):
    """Smallest degree whose quantised, fixed-point-evaluated error is below 2^-target_bits."""
    width = mpf(2) ** -log2_width
    half_raw = 1 << (63 - log2_width)  # half an interval at 2^-64
    for deg in range(4, max_degree + 1):
        coeffs, worst = [], mpf(0)
        for i in range(count):
            a = mpf(start) + i * width
            mono = cheb_monomial(f, a, a + width, deg)
            q = [rnd(v * mpf(2) ** COEFF_SCALE) for v in mono]
            c_raw = rnd((a + width / 2) * mpf(2) ** 64)
            for s in range(samples + 1):
                # sample u over [-1, 1) including both ends of the interval
                off = -half_raw + (2 * half_raw - 1) * s // samples
                u63 = off << log2_width
                got = horner_fixed(q, u63)
                x = mpf(c_raw + off) / mpf(2) ** 64
                err = abs(mpf(got) / mpf(2) ** COEFF_SCALE - f(x))
                worst = max(worst, err)
            coeffs.append(q)
            if worst > mpf(2) ** -target_bits:
                break
        if worst <= mpf(2) ** -target_bits:
            bits = -mp.log(worst, 2) if worst > 0 else mpf(200)
            print(f"{name}: degree {deg}, worst sampled error 2^-{float(bits):.1f}", file=sys.stderr)
            return deg, coeffs, float(bits)
    raise SystemExit(f"{name}: no degree <= {max_degree} reaches 2^-{target_bits}")


def mills(x):
    """Mills ratio M(x) = Q(x)/phi(x) = sqrt(2 pi) e^{x^2/2} Q(x)."""
    return mp.sqrt(2 * mp.pi) * mp.exp(x * x / 2) * mp.ncdf(-x)


def inverse_guess(s):
    """X(s) = -Phi^{-1}(exp(-s^2/2)): the tail quantile as a smooth function of s."""
    q = mp.exp(-s * s / 2)
    return mp.sqrt(2) * mp.erfinv(1 - 2 * q)


def emit_piecewise(out, ident, doc, start_raw, log2_width, count, deg, coeffs, bits):
    out.append(f"/// {doc}")
    out.append(f"/// Degree {deg}, {count} intervals of width 2^-{log2_width}; "
               f"worst sampled error of the fixed-point evaluation 2^-{bits:.1f}.")
    out.append(f"pub(super) static {ident}: Piecewise = Piecewise {{")
    out.append(f"    start: {i128_hex(start_raw)},")
    out.append(f"    log2_width: {log2_width},")
    out.append(f"    intervals: {count},")
    out.append(f"    degree: {deg},")
    out.append("    coeffs: &[")
    for i, q in enumerate(coeffs):
        out.append(f"        // interval {i}")
        for v in q:
            out.append(f"        {i128_hex(v)},")
    out.append("    ],")
    out.append("};")
    out.append("")


def emit_array(out, doc, name, elem_type, items):
    """A documented static array, one entry a line."""
    out.append(f"/// {doc}")
    out.append(f"pub(super) static {name}: [{elem_type}; {len(items)}] = [")
    out.extend(f"    {item}," for item in items)
    out.append("];")


def fx_const(v):
    return rnd(v * mpf(2) ** 64)


def generate():
    out = [
        "//! Tables and constants of the fixed-point kernels.",
        "//!",
        "//! GENERATED by `vm/tools/gen_math_tables.py` (mpmath, 120 digits); do not edit.",
        "//! Each entry is the exact value rounded to nearest at the scale named in its doc.",
        "//! `spec/numerics.md` explains how each kernel uses them.",
        "",
        "use super::poly::Piecewise;",
        "",
    ]
    # Public Fx constants (correctly rounded at 2^-64).
    consts = [
        ("E", mp.e, "e"),
        ("LN_2", mp.log(2), "ln 2"),
        ("LN_10", mp.log(10), "ln 10"),
        ("LOG2_E", 1 / mp.log(2), "log2 e"),
        ("PI", mp.pi, "pi"),
        ("SQRT_2", mp.sqrt(2), "sqrt 2"),
        ("SQRT_2PI", mp.sqrt(2 * mp.pi), "sqrt(2 pi)"),
        ("INV_SQRT_2PI", 1 / mp.sqrt(2 * mp.pi), "1/sqrt(2 pi)"),
    ]
    for ident, v, label in consts:
        out.append(f"/// {label}, correctly rounded to I64F64 (raw bits, 2^-64 units).")
        out.append(f"pub(super) const {ident}_BITS: i128 = {i128_hex(fx_const(v))};")
    out.append("")

    ints, fracs, poly = exp_tables()
    out.append(f"/// Smallest and largest integer part n handled by `exp_core`.")
    out.append(f"pub(super) const EXP_N_MIN: i32 = {EXP_N_MIN};")
    out.append(f"pub(super) const EXP_N_MAX: i32 = {EXP_N_MAX};")
    out.append("/// e^n for n in EXP_N_MIN..=EXP_N_MAX as (mantissa m, exponent k): e^n = m * 2^(k-191),")
    out.append("/// m in [2^191, 2^192) as three little-endian u64 limbs.")
    out.append(f"pub(super) static EXP_INT: [([u64; 3], i32); {len(ints)}] = [")
    for n, (m, k) in zip(range(EXP_N_MIN, EXP_N_MAX + 1), ints):
        out.append(f"    ({hex3(m)}, {k}), // e^{n}")
    out.append("];")
    emit_array(out, "e^(j/256) at 2^-190 for j in 0..256, three little-endian u64 limbs.",
               "EXP_FRAC", "[u64; 3]", [hex3(v) for v in fracs])
    emit_array(out, "1/(k+2)! at 2^-128: coefficients of U(c) = (e^c - 1 - c)/c^2.",
               "EXP_POLY", "u128", [u128_hex(v) for v in poly])
    out.append("")

    recips, logs, g = ln_tables()
    emit_array(out, "r_j = round(2^64 / (1 + (j + 1/2)/256)) for the 256 cells of m in [1, 2).",
               "LN_RECIP", "u64", [f"0x{v:016x}" for v in recips])
    emit_array(out, "-ln(r_j / 2^64) at 2^-127.", "LN_LOG_RECIP", "u128", [u128_hex(v) for v in logs])
    emit_array(out, "(-1)^k/(k+2) at 2^-126: log1p(t) = t - t^2 * G(t).",
               "LOG1P_G", "i128", [i128_hex(v) for v in g])
    out.append(f"/// ln 2 at 2^-127.")
    out.append(f"pub(super) const LN2_127: i128 = {i128_hex(rnd(mp.log(2) * mpf(2) ** 127))};")
    out.append(f"/// ln sqrt(2 pi) at 2^-120.")
    out.append(f"pub(super) const LN_SQRT_2PI_120: i128 = "
               f"{i128_hex(rnd(mp.log(mp.sqrt(2 * mp.pi)) * mpf(2) ** 120))};")
    ln_t = rnd(mp.log((mpf(2) ** 127 - mpf(1) / 2) / mpf(2) ** 64) * mpf(2) ** 190)
    limbs = ", ".join(f"0x{(ln_t >> (64 * i)) & ((1 << 64) - 1):016x}" for i in range(4))
    out.append("/// ln(2^63 - 2^-65) at 2^-190, four little-endian u64 limbs: pow's overflow threshold.")
    out.append(f"pub(super) const LN_OVERFLOW_190: [u64; 4] = [{limbs}];")
    out.append(f"/// 1/sqrt(2 pi) at 2^-128.")
    out.append(f"pub(super) const INV_SQRT_2PI_128: u128 = "
               f"{u128_hex(rnd(mpf(2) ** 128 / mp.sqrt(2 * mp.pi)))};")
    out.append("")

    # Mills ratio on [0, 10): used by ncdf (Q = phi * M) and by inv_ncdf's Newton step.
    deg, coeffs, bits = fit_piecewise("MILLS", mills, 0, 1, 20, 82)
    emit_piecewise(out, "MILLS", "Mills ratio M(x) = Q(x)/phi(x) on [0, 10), at 2^-120.",
                   0, 1, 20, deg, coeffs, bits)
    # Initial guess for the inverse CDF on s in [1, 10).
    deg, coeffs, bits = fit_piecewise("INV_NCDF_GUESS", inverse_guess, 1, 1, 18, 46, samples=60)
    emit_piecewise(out, "INV_NCDF_GUESS",
                   "X(s) = -Phi^-1(exp(-s^2/2)) on s in [1, 10), at 2^-120 (a Newton start).",
                   1 << 64, 1, 18, deg, coeffs, bits)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file")
    args = ap.parse_args()
    text = generate()
    if args.check:
        with open(OUT) as fh:
            same = fh.read() == text
        print("tables.rs is up to date" if same else "tables.rs differs from the generator")
        sys.exit(0 if same else 1)
    with open(OUT, "w") as fh:
        fh.write(text)
    print(f"wrote {os.path.relpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
