"""Check of "Try it" 1.14 (make check ASSIGNMENT=ch1-14): an asset job registered in the Definitions."""

from chapter_1.definitions import defs


def test_stock_pipeline_job_materializes_the_group(tmp_path, monkeypatch):
    # The Definitions' data_dir resource reads the variable when the run starts.
    monkeypatch.setenv("CHAPTER_1_DATA_DIR", str(tmp_path))
    jobs = {job.name for job in defs.get_repository_def().get_all_jobs()}
    assert "stock_pipeline_job" in jobs, "chapter_1/definitions.py registers no job stock_pipeline_job yet"
    result = defs.resolve_job_def("stock_pipeline_job").execute_in_process()
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    group = {node.key for node in defs.resolve_asset_graph().asset_nodes if node.group_name == "stock_pipeline"}
    names = sorted(key.to_user_string() for key in materialized)
    assert materialized == group, f"stock_pipeline_job materialized {names}, not the group stock_pipeline"
