"""Check of "Try it" 1.7 (make check ASSIGNMENT=ch1-7): a new field of an op's config."""

from dagster import RunConfig, build_op_context

from chapter_1.run_config import RepeatConfig, repeat_job, repeat_word


def test_repeat_word_joins_with_the_separator():
    assert "separator" in RepeatConfig.model_fields, "RepeatConfig (chapter_1/run_config.py) has no field separator"
    assert RepeatConfig().separator == " ", f"separator defaults to {RepeatConfig().separator!r}, not ' '"
    joined = repeat_word(build_op_context(), RepeatConfig(word="a", times=3, separator="-"))
    assert joined == "a-a-a", f"repeat_word with separator '-' returned {joined!r}, not 'a-a-a'"
    config = RunConfig(ops={"repeat_word": RepeatConfig(word="hello", times=2, separator="+")})
    sentence = repeat_job.execute_in_process(run_config=config).output_for_node("repeat_word")
    assert sentence == "hello+hello", f"repeat_job with separator '+' returned {sentence!r}, not 'hello+hello'"
