"""Check of "Try it" 1.5 (make check ASSIGNMENT=ch1-5): a job whose default config fails the PositiveNumber check."""

from chapter_1.definitions import defs
from tooling.workshop import require


def test_zero_number_job_fails_its_type_check():
    require("chapter_1.dagster_types", "zero_number_job")
    jobs = {job.name for job in defs.get_repository_def().get_all_jobs()}
    assert "zero_number_job" in jobs, "zero_number_job is not registered in chapter_1/definitions.py"
    result = defs.resolve_job_def("zero_number_job").execute_in_process(raise_on_error=False)
    assert not result.success, "zero_number_job succeeded: its default config must give emit_number the value 0"
    failures = [event for event in result.all_events if event.is_step_failure]
    assert [event.step_key for event in failures] == ["emit_number"], "the run must fail at emit_number's output"
    message = failures[0].step_failure_data.error.message
    assert "0.0 is not a number > 0" in message, f"emit_number failed, but not on its type check: {message}"
