import pytest
from dagster import DagsterTypeCheckDidNotPass, RunConfig, check_dagster_type

from chapter_1.dagster_types import NumberConfig, PositiveNumber, number_validation_job, positive_number_job


@pytest.mark.parametrize(("value", "ok"), [(16, True), (0.5, True), (0, False), (-5.0, False), (True, False)])
def test_positive_number_type_check(value, ok):
    assert check_dagster_type(PositiveNumber, value).success is ok


def test_positive_number_job_passes_checks():
    result = positive_number_job.execute_in_process()
    assert result.success
    assert result.output_for_node("square_root") == 4.0


def test_positive_number_job_rejects_bad_config_at_runtime():
    config = RunConfig(ops={"emit_number": NumberConfig(value=-1)})
    with pytest.raises(DagsterTypeCheckDidNotPass, match="PositiveNumber"):
        positive_number_job.execute_in_process(run_config=config)


def test_number_validation_job_raises_documented_error():
    with pytest.raises(DagsterTypeCheckDidNotPass) as caught:
        number_validation_job.execute_in_process()
    message = str(caught.value)
    assert 'expected type "PositiveNumber"' in message
    assert "-5.0 is not a number > 0" in message
    # The docstring documents the same error (it is what the UI shows as the job description).
    assert "DagsterTypeCheckDidNotPass" in number_validation_job.description
    assert "-5.0 is not a number > 0" in number_validation_job.description


def test_number_validation_job_failure_without_raising():
    result = number_validation_job.execute_in_process(raise_on_error=False)
    assert not result.success
    failed = [event.step_key for event in result.all_events if event.is_step_failure]
    assert failed == ["emit_negative_number"]
    # square_root never ran: its upstream failed.
    assert not any(event.step_key == "square_root" and event.is_step_start for event in result.all_events)
