"""Monte Carlo of pathway paths: matches exact Markov-chain results when drivers have no effect,
moves the theory-signed way under shocks, recomputes interactions, and is reproducible and
independent of chunking."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from models.driver_paths import AR1Drivers
from models.drivers import overlap
from models.hmm import alpha_prior_mean
from models.simulate import simulate

BASE = ("W_US", "W_CN", "INTL")
MODEL = ("W_US", "W_CN", "W_US_x_W_CN", "INTL")


def drivers(mean=(0.0, 0.0, 0.0), sigma: float = 0.3) -> AR1Drivers:
    """Base drivers with known AR(1) dynamics, starting at their mean."""
    mean = np.asarray(mean, dtype=float)
    return AR1Drivers(
        names=BASE,
        mean=mean,
        phi=np.full(3, 0.8),
        sigma=np.full(3, sigma),
        chol=sigma * np.eye(3),
        residuals=np.zeros((24, 3)),
        last=mean.copy(),
    )


def softmax_rows(alpha: np.ndarray) -> np.ndarray:
    logits = np.concatenate([np.zeros((3, 1)), alpha], axis=1)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


ALPHA = np.stack([alpha_prior_mean(s) + o for s, o in ((1.5, 0.0), (2.0, 0.4), (1.0, -0.3))])
P0 = np.array([[0.2, 0.3, 0.5], [0.0, 0.0, 1.0], [0.6, 0.3, 0.1]])


def test_without_driver_effects_matches_markov_chain_powers() -> None:
    horizon, n_paths = 12, 20_000
    beta = np.zeros((3, len(MODEL), 2))
    res = simulate(ALPHA, beta, P0, MODEL, drivers(), None, horizon, n_paths, seed=11)
    for d in range(3):
        trans = softmax_rows(ALPHA[d])
        absorbing = trans.copy()
        absorbing[0] = [1.0, 0.0, 0.0]  # DC absorbing: P(in DC at h) = P(first passage <= h)
        p, first = P0[d], P0[d] @ trans  # first passage counts months 1..H only
        for h in range(horizon):
            p = p @ trans
            tol = 4 * np.sqrt(p * (1 - p) / n_paths) + 1e-9
            assert np.all(np.abs(res.month_probs[d, h] - p) <= tol), (d, h)
            q = first[0]
            assert abs(res.first_dc_cdf[d, h] - q) <= 4 * np.sqrt(q * (1 - q) / n_paths) + 1e-9
            first = first @ absorbing
    assert np.allclose(res.ever_dc, res.first_dc_cdf[:, -1])
    assert np.allclose(res.share_of_months, res.month_probs.mean(axis=1))


CENTRED_DRIVERS = drivers()


def run(shocks=None, beta_row=(0.5, 0.5, 0.0, -0.5), base=CENTRED_DRIVERS, seed=3, **kw):
    """Two draws, theory-signed effects (W_US, W_CN, interaction, INTL) on SE and MC."""
    beta = np.repeat(np.array(beta_row)[None, :, None], 2, axis=2)
    beta = np.repeat(beta, 2, axis=0)
    kw = {"horizon": 12, "n_paths": 6_000, **kw}
    return simulate(ALPHA[:2], beta, P0[:2], MODEL, base, shocks, seed=seed, **kw)


def shock(driver: str, size: float, horizon: int = 12) -> np.ndarray:
    out = np.zeros((horizon, len(BASE)))
    out[:, BASE.index(driver)] = size
    return out


def engaged_at_horizon(res) -> float:
    """P(SE) + P(MC) in the last month, averaged over draws, and its binomial SE."""
    p = 1.0 - res.horizon_probs[:, 0].mean()
    return p, np.sqrt(p * (1 - p) / (res.month_probs.shape[0] * res.n_paths))


@pytest.mark.parametrize(
    ("driver", "size", "sign"), [("W_US", 1.5, 1), ("W_CN", 1.5, 1), ("INTL", 1.5, -1)]
)
def test_shocks_move_pathways_in_the_theory_signed_direction(driver, size, sign) -> None:
    before, se = engaged_at_horizon(run())
    after, _ = engaged_at_horizon(run(shock(driver, size)))
    assert sign * (after - before) > 4 * np.sqrt(2) * se  # wider win-set: more SE + MC


def test_interaction_is_recomputed_from_the_shocked_parts() -> None:
    only_interaction = (0.0, 0.0, 0.8, 0.0)
    moved = {}
    for cn_level in (1.0, -1.0):
        base = drivers(mean=(0.0, cn_level, 0.0), sigma=0.1)
        before, se = engaged_at_horizon(run(beta_row=only_interaction, base=base))
        after, _ = engaged_at_horizon(run(shock("W_US", 1.5), beta_row=only_interaction, base=base))
        # widening W_US widens the overlap whatever W_CN is (it never shrinks it) ...
        assert after - before > 4 * np.sqrt(2) * se, cn_level
        moved[cn_level] = after - before
    # ... and by more when China's win-set is wide: a closed one leaves little to overlap
    assert moved[1.0] > moved[-1.0]


def test_first_month_uses_the_last_observed_drivers() -> None:
    base = drivers()
    last = np.array([2.0, -1.0, 1.0])
    # the observed month is the simulated part plus the known part (the election countdown)
    known = np.array([0.7, 0.0, 0.0])
    base = replace(base, last=last - known, known_last=known)
    beta_row = np.array([0.5, 0.3, 0.2, -0.4])
    res = run(beta_row=tuple(beta_row), base=base, n_paths=20_000, horizon=2)
    x = np.array([last[0], last[1], overlap(last[0], last[1]), last[2]])
    for d in range(2):
        p1 = P0[d] @ softmax_rows(ALPHA[d] + x @ beta_row)
        tol = 4 * np.sqrt(p1 * (1 - p1) / 20_000) + 1e-9
        assert np.all(np.abs(res.month_probs[d, 0] - p1) <= tol)


def test_drivers_act_with_a_one_month_lag() -> None:
    plain = run()
    last_month = np.zeros((12, 3))
    last_month[-1, 0] = 5.0
    assert np.array_equal(run(last_month).month_probs, plain.month_probs)
    first_month = np.zeros((12, 3))
    first_month[0, 0] = 5.0
    moved = run(first_month)
    assert np.array_equal(moved.month_probs[:, 0], plain.month_probs[:, 0])
    assert not np.array_equal(moved.month_probs[:, 1], plain.month_probs[:, 1])


def test_same_seed_same_numbers_and_chunking_changes_nothing() -> None:
    base = run(chunk_size=1)
    for other in (run(chunk_size=2), run(), run(chunk_size=1)):
        assert np.array_equal(other.month_probs, base.month_probs)
        assert np.array_equal(other.months_in_state, base.months_in_state)
        assert np.array_equal(other.first_dc, base.first_dc)
    assert not np.array_equal(run(seed=4).month_probs, base.month_probs)


def test_frames_are_tidy_and_labelled_from_the_origin() -> None:
    frames = run(origin="2026-06", horizon=4).to_frames()
    monthly = frames["monthly"]
    assert monthly.columns == ["step", "month", "pathway", "mean", "q05", "q50", "q95"]
    assert monthly["pathway"].to_list()[:3] == ["DC", "SE", "MC"]
    assert monthly["month"][0].isoformat() == "2026-07-01" and monthly.height == 12
    sums = monthly.group_by("step").agg(pl.col("mean").sum())["mean"]
    assert np.allclose(sums.to_numpy(), 1.0)
    ordered = monthly.select(
        (pl.col("q05") <= pl.col("q50")) & (pl.col("q50") <= pl.col("q95"))
    ).to_series()
    assert ordered.all()
    horizon = frames["horizon"]
    assert set(horizon["measure"]) == {"pathway_at_horizon", "share_of_months", "ever_DC"}
    ever = horizon.filter(pl.col("measure") == "ever_DC")["mean"][0]
    assert frames["first_passage"]["mean"][-1] == pytest.approx(ever)
    assert frames["path_spread"].filter(pl.col("measure") == "share_of_months").height == 3


def test_path_spread_of_certain_futures() -> None:
    # Draw 1 starts in MC and stays (stay logit 60), draw 2 likewise in SE: nothing is random.
    alpha = np.zeros((2, 3, 2))
    alpha[0, 2] = [30.0, 60.0]
    alpha[1, 1] = [60.0, 30.0]
    p0 = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    res = simulate(alpha, np.zeros((2, 4, 2)), p0, MODEL, drivers(), None, 6, 500, seed=0)
    assert np.array_equal(res.share_of_months, [[0, 0, 1], [0, 1, 0]])
    spread = res.to_frames()["path_spread"]
    first = spread.filter(pl.col("measure") == "first_month_in_DC")
    assert first.select("q05", "q50", "q95").row(0) == (None, None, None)
    shares = spread.filter(pl.col("measure") == "share_of_months")
    assert shares["q05"].to_list() == [0.0, 0.0, 0.0]
    assert shares["q95"].to_list() == [0.0, 1.0, 1.0]
    assert res.ever_dc.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"p0": np.array([[0.5, 0.5, 0.5], [0, 0, 1.0]])}, "p0"),
        ({"beta": np.zeros((2, 3, 2))}, "beta"),
        ({"shocks": np.zeros((5, 3))}, "shocks"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_inputs_name_the_argument(change, words) -> None:
    args = {
        "alpha": ALPHA[:2],
        "beta": np.zeros((2, 4, 2)),
        "p0": P0[:2],
        "driver_names": MODEL,
        "drivers": drivers(),
        "shocks": None,
        "horizon": 6,
        "n_paths": 10,
        "seed": 0,
    }
    with pytest.raises(ValueError, match=words):
        simulate(**{**args, **change})
