"""Check of "Try it" 1.1 (make check ASSIGNMENT=ch1-1): math_job reports its result through a third op."""

from chapter_1.definitions import defs
from tooling.workshop import require


def test_math_job_reports_its_result():
    require("chapter_1.ops_and_jobs", "report_result")
    job = defs.resolve_job_def("math_job")
    assert "report_result" in job.graph.node_names(), "math_operations does not call report_result yet"
    result = job.execute_in_process()
    reported = result.output_for_node("report_result")
    assert reported == "The result is 6", f"report_result returned {reported!r} by default, not 'The result is 6'"
    assert result.output_value() == 6, f"math_operations returns {result.output_value()!r}: it must still return 6"
