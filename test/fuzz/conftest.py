"""Hypothesis profiles of the fuzz suite: `fuzz-ci` (default, a small budget per boundary) and `fuzz-deep`
(`DRO_ROS_FUZZ=deep`, thousands of examples per boundary; `make fuzz`). Both derandomized: a run is
reproducible, and a failure found once is found again. The profile is applied by `fuzzing.fuzz_settings`,
so the suite's other property tests keep their own settings."""
import os

from hypothesis import HealthCheck, settings

_COMMON = dict(derandomize=True, deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large])
settings.register_profile("fuzz-ci", max_examples=100, **_COMMON)
settings.register_profile("fuzz-deep", max_examples=3000, **_COMMON)


def pytest_report_header(config):
    return f"fuzz profile: fuzz-{os.environ.get('DRO_ROS_FUZZ', 'ci')}"
