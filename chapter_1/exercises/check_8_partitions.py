"""Check of "Try it" 1.8 (make check ASSIGNMENT=ch1-8): the daily partitions cover August 2023 only."""

from chapter_1.partitions import daily_partitions


def test_partitions_cover_august_2023():
    keys = daily_partitions.get_partition_keys()
    assert keys[0] == "2023-08-02", f"the first partition is {keys[0]}, not 2023-08-02"
    assert keys[-1] == "2023-08-31", f"the last partition is {keys[-1]}, not 2023-08-31 (end_date is exclusive)"
    assert len(keys) == 30, f"{len(keys)} partitions, not 30"
