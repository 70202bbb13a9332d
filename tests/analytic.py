"""Closed forms of ``docs/design.md`` §2.5 for the qubit pair, written independently of the kernel.

All functions are jax.numpy so that their derivatives (``jax.grad``) give the reference for
the kernel's autodiff. Inputs: scalars ``omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b,
epsilon``.
"""

import jax.numpy as jnp


def _f_gamma(omega, beta, gamma):
    x = jnp.exp(-beta * omega)
    return x / (1 + x), gamma * (1 + x)


def incoherent(omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon):
    """``I = (f_A − f_B)/(1/ε + 1/γ_A + 1/γ_B)``; ``J_A = ω_A I``, ``J_B = −ω_B I``,
    ``P = (ω_B − ω_A) I``, ``⟨n_A⟩ = f_A − I/γ_A``, ``⟨n_B⟩ = f_B + I/γ_B``."""
    f_a, g_a = _f_gamma(omega_a, beta_a, gamma_a)
    f_b, g_b = _f_gamma(omega_b, beta_b, gamma_b)
    i = (f_a - f_b) / (1 / epsilon + 1 / g_a + 1 / g_b)
    return {
        "J_a": omega_a * i,
        "J_b": -omega_b * i,
        "power": (omega_b - omega_a) * i,
        "n_a": f_a - i / g_a,
        "n_b": f_b + i / g_b,
    }


def local(omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon):
    """``r = 2ε²κ/(κ²+Δ²)``, ``I = r(f_A − f_B)/(1 + r(1/γ_A + 1/γ_B))``,
    ``J_A = −J_B = I(ω_A γ_B + ω_B γ_A)/(γ_A + γ_B)``."""
    f_a, g_a = _f_gamma(omega_a, beta_a, gamma_a)
    f_b, g_b = _f_gamma(omega_b, beta_b, gamma_b)
    kappa = (g_a + g_b) / 2
    delta = omega_a - omega_b
    r = 2 * epsilon**2 * kappa / (kappa**2 + delta**2)
    i = r * (f_a - f_b) / (1 + r * (1 / g_a + 1 / g_b))
    j_a = i * (omega_a * g_b + omega_b * g_a) / (g_a + g_b)
    return {"J_a": j_a, "J_b": -j_a, "power": jnp.zeros_like(j_a)}


def global_(omega_a, omega_b, beta_a, beta_b, gamma_a, gamma_b, epsilon):
    """Davies thermalizers in the eigenbasis of ``H``: levels ``0, E_±, ω_A+ω_B``,
    ``J_A = −J_B = Σ_± E_s g_A^s g_B^s/(g_A^s + g_B^s) (F_A(E_s) − F_B(E_s))``."""
    delta = omega_a - omega_b
    big_r = jnp.sqrt(delta**2 / 4 + epsilon**2)
    theta = 0.5 * jnp.arctan2(2 * epsilon, delta)
    c2, s2 = jnp.cos(theta) ** 2, jnp.sin(theta) ** 2
    mean = (omega_a + omega_b) / 2
    e_p, e_m = mean + big_r, mean - big_r

    def fermi(beta, e):
        return 1 / (1 + jnp.exp(beta * e))

    def u(beta, e):
        return 1 + jnp.exp(-beta * jnp.abs(e))

    j = 0.0
    for e, wa, wb in ((e_p, c2, s2), (e_m, s2, c2)):
        g_a = wa * gamma_a * u(beta_a, e)
        g_b = wb * gamma_b * u(beta_b, e)
        j = j + e * g_a * g_b / (g_a + g_b) * (fermi(beta_a, e) - fermi(beta_b, e))
    return {"J_a": j, "J_b": -j, "power": jnp.zeros_like(j)}


CLOSED_FORMS = {"incoherent": incoherent, "local": local, "global": global_}
