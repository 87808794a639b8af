from dagster import RunConfig, build_op_context

from chapter_1.ops_and_jobs import AddNumbersConfig, add_numbers, math_job, math_operations, multiply_by_two


def test_add_numbers_with_op_context_defaults_to_three():
    assert add_numbers(build_op_context(), AddNumbersConfig()) == 3


def test_add_numbers_with_op_config_in_context():
    assert add_numbers(build_op_context(op_config={"a": 1, "b": 2})) == 3
    assert add_numbers(build_op_context(op_config={"a": 10, "b": -4})) == 6


def test_multiply_by_two_direct_invocation():
    assert multiply_by_two(build_op_context(), 21) == 42


def test_math_job_default_config_gives_six():
    result = math_job.execute_in_process()
    assert result.success
    assert result.output_for_node("add_numbers") == 3
    assert result.output_for_node("multiply_by_two") == 6
    # The graph returns multiply_by_two's output, so it is also the job's output.
    assert result.output_value() == 6


def test_math_operations_graph_with_given_inputs():
    config = RunConfig(ops={"add_numbers": AddNumbersConfig(a=4, b=5)})
    result = math_operations.execute_in_process(run_config=config)
    assert result.success
    assert result.output_for_node("add_numbers") == 9
    assert result.output_value() == 18


def test_math_job_is_built_from_the_graph():
    assert math_job.graph.name == "math_operations"
    assert set(math_job.graph.node_names()) == {"add_numbers", "multiply_by_two"}
    assert math_job.graph.dependency_structure.input_to_upstream_outputs_for_node("multiply_by_two")
