"""Growth fits and exhaustion forecasts (qslogs.analyses.licenses.growth): planted slopes, coverage, edge cases."""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import date

import pytest

from qslogs.analyses.licenses.growth import (
    DAYS_PER_MONTH,
    Fit,
    Forecast,
    add_months,
    fit_series,
    forecast,
    is_flat,
    ols,
    prediction_half_width,
    t_cdf,
    t_quantile,
    theil_sen,
)

MONTHS = [float(i) for i in range(12)]


@pytest.mark.parametrize(
    ("df", "expected"),
    [
        (1, 12.706204736),
        (2, 4.302652730),
        (5, 2.570581836),
        (10, 2.228138852),
        (30, 2.042272456),
        (120, 1.979930405),
        (1000, 1.962339081),
    ],
)
def test_t_quantile_matches_published_tables(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-8)
    assert t_quantile(0.025, df) == pytest.approx(-expected, abs=1e-8)
    assert t_cdf(expected, df) == pytest.approx(0.975, abs=1e-10)


def _series(rng: random.Random, slope: float, start: float, sd: float, x: list[float]) -> list[float]:
    return [start + slope * v + rng.gauss(0.0, sd) for v in x]


@pytest.mark.parametrize("seed", range(8))
def test_ols_recovers_planted_slope_within_its_interval(seed: int) -> None:
    rng = random.Random(seed)
    y = _series(rng, 2.5, 20.0, 1.0, MONTHS)
    fit = ols(MONTHS, y)
    assert fit.ci_low is not None and fit.ci_high is not None
    assert fit.ci_low <= 2.5 <= fit.ci_high
    assert fit.ci_high - fit.ci_low < 0.6  # sd 1 over 12 months pins the slope to about ±0.2
    assert fit.r2 is not None and fit.r2 > 0.9


def test_ols_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    covered = 0
    runs = 400
    for seed in range(runs):
        rng = random.Random(10_000 + seed)
        fit = ols(MONTHS, _series(rng, 2.5, 20.0, 1.5, MONTHS))
        assert fit.ci_low is not None and fit.ci_high is not None
        covered += fit.ci_low <= 2.5 <= fit.ci_high
    # Binomial(400, 0.95): sd 1.1 %; 91–99 % is beyond 3.5 sd either side of a correct interval.
    assert 0.91 <= covered / runs <= 0.99, covered / runs


def test_theil_sen_interval_covers_the_truth_most_of_the_time() -> None:
    covered = sum(
        (f.ci_low or 0) <= 2.5 <= (f.ci_high or 0)
        for f in (
            theil_sen(MONTHS, _series(random.Random(20_000 + s), 2.5, 20.0, 1.5, MONTHS)) for s in range(200)
        )
    )
    assert 0.88 <= covered / 200 <= 1.0


@pytest.mark.parametrize("seed", range(5))
def test_theil_sen_is_chosen_when_outliers_decide_the_least_squares_line(seed: int) -> None:
    rng = random.Random(seed)
    y = _series(rng, 2.5, 20.0, 0.5, MONTHS)
    y[-1] += 25.0  # one month with a burst of bulk allocations, removed again the next day
    y[-2] += 20.0
    plain = ols(MONTHS, y)
    assert not (plain.ci_low or 0) <= 2.5 <= (plain.ci_high or 0)  # least squares is dragged away
    fit = fit_series(MONTHS, y)
    assert fit.method == "theil-sen"
    assert fit.outliers >= 2
    assert fit.ci_low is not None and fit.ci_high is not None and fit.ci_low <= 2.5 <= fit.ci_high


def test_least_squares_is_kept_without_outliers() -> None:
    fit = fit_series(MONTHS, _series(random.Random(3), 2.5, 20.0, 1.0, MONTHS))
    assert (fit.method, fit.outliers, fit.flat) == ("ols", 0, False)


def test_a_constant_series_is_flat_with_a_zero_interval() -> None:
    fit = fit_series(MONTHS, [12.0] * 12)
    assert (fit.slope, fit.ci_low, fit.ci_high, fit.r2, fit.flat) == (0.0, 0.0, 0.0, None, True)


def test_flat_with_noise_and_a_spike_is_flat_but_a_real_trend_is_not() -> None:
    rng = random.Random(5)
    noisy = [12.0 + rng.choice((-1.0, 0.0, 0.0, 1.0)) for _ in MONTHS]
    noisy[4] = 19.0
    assert fit_series(MONTHS, noisy).flat
    slow = fit_series(MONTHS, [12.0 + 0.5 * x for x in MONTHS])
    assert not slow.flat  # half a user a month is growth, however small


def test_is_flat_needs_both_a_zero_in_the_interval_and_a_tiny_slope() -> None:
    wide = Fit("ols", 1.0, 0.0, -0.5, 2.5, 0.1, 12)
    assert not is_flat(wide, 12.0)  # no clear trend, but not flat either
    assert is_flat(Fit("ols", 0.05, 0.0, -0.1, 0.2, 0.0, 12), 12.0)
    assert not is_flat(Fit("ols", 0.0, 0.0, None, None, None, 2), 12.0)


def test_two_points_give_a_slope_without_interval() -> None:
    fit = ols([0.0, 1.0], [3.0, 5.0])
    assert (fit.slope, fit.ci_low, fit.ci_high) == (2.0, None, None)
    with pytest.raises(ValueError, match="two distinct x"):
        ols([1.0, 1.0], [3.0, 5.0])


def _fit(slope: float, low: float, high: float) -> Fit:
    return Fit("ols", slope, 0.0, low, high, 0.9, 12)


AS_OF = date(2026, 10, 31)


def test_forecast_with_growth_gives_months_date_and_interval() -> None:
    fc = forecast(40, 35, _fit(2.5, 2.0, 3.125), AS_OF)
    assert fc.status == "exhausts"
    assert fc.remaining == 5
    assert fc.months_to_exhaustion == pytest.approx(2.0)
    assert fc.months_low == pytest.approx(1.6) and fc.months_high == pytest.approx(2.5)
    assert fc.exhaustion_date == date(2026, 12, 31)  # 2 mean months = 60.9 days
    assert fc.date_low is not None and fc.date_high is not None
    assert fc.date_low < fc.exhaustion_date < fc.date_high


def test_forecast_interval_is_open_ended_when_the_low_slope_is_not_positive() -> None:
    fc = forecast(40, 30, _fit(1.0, -0.2, 2.2), AS_OF)
    assert fc.status == "exhausts" and fc.months_to_exhaustion == pytest.approx(10.0)
    assert fc.months_high is None and fc.date_high is None
    assert fc.months_low == pytest.approx(10 / 2.2)


@pytest.mark.parametrize(("slope", "low", "high"), [(0.0, 0.0, 0.0), (-1.5, -2.0, -1.0)])
def test_zero_or_negative_slope_never_runs_out(slope: float, low: float, high: float) -> None:
    fc = forecast(40, 30, _fit(slope, low, high), AS_OF)
    assert (fc.status, fc.months_to_exhaustion, fc.exhaustion_date) == ("never", None, None)
    assert fc.remaining == 10


def test_already_over_capacity_is_zero_months_now_whatever_the_slope() -> None:
    for fit in (_fit(2.5, 2.0, 3.0), _fit(-1.0, -2.0, 0.0), None):
        fc = forecast(40, 43, fit, AS_OF)
        assert (fc.status, fc.remaining, fc.months_to_exhaustion, fc.exhaustion_date) == (
            "over-capacity",
            -3,
            0.0,
            AS_OF,
        )


def test_exactly_at_capacity_is_reported_as_such() -> None:
    fc = forecast(15, 15, _fit(0.0, 0.0, 0.0), AS_OF)
    assert (fc.status, fc.remaining, fc.months_to_exhaustion, fc.exhaustion_date) == (
        "at-capacity",
        0,
        0.0,
        AS_OF,
    )


def test_flat_fit_with_a_tiny_positive_slope_never_runs_out() -> None:
    flat = Fit("ols", 0.01, 12.0, -0.1, 0.12, 0.0, 12, flat=True)
    assert forecast(15, 12, flat, AS_OF).status == "never"


def test_unknown_capacity_and_far_horizon() -> None:
    assert forecast(None, 12, _fit(2.5, 2.0, 3.0), AS_OF).status == "unknown-capacity"
    far = forecast(10_000, 10, _fit(0.5, 0.4, 0.6), AS_OF)
    assert far.status == "beyond-horizon" and far.exhaustion_date is None and far.months_to_exhaustion > 1200


def test_add_months_uses_mean_gregorian_months() -> None:
    assert add_months(date(2026, 1, 1), 12) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 1), 1) == date(2026, 1, 1 + round(DAYS_PER_MONTH))
    assert add_months(date(2026, 1, 1), 5000) is None


@pytest.mark.parametrize("cls", [Fit, Forecast])
def test_every_field_is_documented(cls: type) -> None:
    assert all(f.metadata.get("help") for f in fields(cls))


# -- prediction interval of the forecast (issue 13) ----------------------------------------------------------


def test_prediction_interval_covers_a_new_monthly_point_about_95_percent_of_the_time() -> None:
    """A new point 6 months past 12 monthly points falls inside the prediction interval ~95 % of the time
    (the slope's interval alone ignores the scatter of the points and would cover far less)."""
    covered = 0
    runs = 400
    for seed in range(runs):
        rng = random.Random(30_000 + seed)
        fit = ols(MONTHS, _series(rng, 2.5, 20.0, 1.5, MONTHS))
        half = prediction_half_width(fit, 17.0)
        assert half is not None
        new = 20.0 + 2.5 * 17.0 + rng.gauss(0.0, 1.5)
        covered += abs(new - fit.at(17.0)) <= half
    # Binomial(400, 0.95): sd 1.1 %; 91–99 % is beyond 3.5 sd either side of a correct interval.
    assert 0.91 <= covered / runs <= 0.99, covered / runs


def _exhaustion_coverage(runs: int, sd: float, with_prediction: bool) -> float:
    """How often the month the simulated series first reaches capacity lies in the forecast's range."""
    covered = 0
    for seed in range(runs):
        rng = random.Random(40_000 + seed)
        y = _series(rng, 2.5, 20.0, sd, MONTHS)
        capacity = 20.0 + 2.5 * 15.0  # the trend reaches it 4 months after the last point
        fc = forecast(capacity, y[-1], ols(MONTHS, y), AS_OF, 11.0 if with_prediction else None)
        month = 1
        while 20.0 + 2.5 * (11 + month) + rng.gauss(0.0, sd) < capacity:
            month += 1
        low = fc.months_low if fc.months_low is not None else 0.0
        high = fc.months_high if fc.months_high is not None else float("inf")
        covered += low - 1 < month <= high + 1  # monthly points: a month's slack either side
    return covered / runs


def test_exhaustion_range_from_the_prediction_interval_holds_the_real_crossing() -> None:
    with_pi = _exhaustion_coverage(300, 1.5, with_prediction=True)
    slope_only = _exhaustion_coverage(300, 1.5, with_prediction=False)
    assert with_pi >= 0.93, with_pi
    assert slope_only < with_pi - 0.08, (slope_only, with_pi)  # the old, slope-only range was too narrow


def test_prediction_interval_needs_three_points_and_falls_back_without_spread() -> None:
    assert prediction_half_width(ols([0.0, 1.0], [1.0, 2.0]), 5.0) is None
    fc = forecast(40, 35, _fit(2.5, 2.0, 3.125), AS_OF, 11.0)  # a Fit without its spread: slope interval
    assert fc.months_low == pytest.approx(1.6) and fc.months_high == pytest.approx(2.5)


def test_forecast_without_a_fit_is_no_fit_not_never() -> None:
    fc = forecast(40, 35, None, AS_OF)
    assert (fc.status, fc.months_to_exhaustion, fc.exhaustion_date) == ("no-fit", None, None)
