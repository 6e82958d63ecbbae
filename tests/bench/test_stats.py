from bench.stats import p99, summary


def test_p99_is_the_nearest_rank() -> None:
    assert p99([0.5]) == 0.5
    assert p99([float(i) for i in range(1, 101)]) == 99.0
    assert p99([float(i) for i in range(1, 11)]) == 10.0  # fewer than 100 samples: the largest


def test_summary_in_milliseconds() -> None:
    assert summary([0.001, 0.003, 0.002]) == {"n": 3, "p50_ms": 2.0, "p99_ms": 3.0}
    assert summary([]) == {"n": 0}
