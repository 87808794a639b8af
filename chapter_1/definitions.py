"""Chapter 1's single ``Definitions``: everything the UI shows for this code location.

Dagster only knows about what is registered here. Resources are bound by key: an asset or op
parameter named ``data_dir`` receives the ``"data_dir"`` resource, and so on.
"""

from dagster import Definitions, FilesystemIOManager

from chapter_1 import (
    assets,
    backfills,
    dagster_types,
    graph_assets,
    io_managers,
    metadata,
    observations,
    ops_and_jobs,
    partitions,
    resources,
    run_config,
    schedules,
    sensors,
)
from chapter_1.data_dir import LocalDataDir, default_data_root

# Resolved once, when the code location loads: set CHAPTER_1_DATA_DIR before `dagster dev` to move
# every file of the chapter (pickles, JSON, stock files, inbox) somewhere else.
DATA_ROOT = default_data_root()

defs = Definitions(
    assets=[
        assets.daily_stock,
        assets.weekly_stock,
        assets.next_month_forecast,
        graph_assets.units_per_category,
        resources.stock_api_session,
        run_config.configured_name,
        partitions.daily_stock_file,
        io_managers.category_totals,
        io_managers.top_category,
        metadata.sales_report,
    ],
    jobs=[
        ops_and_jobs.math_job,
        dagster_types.positive_number_job,
        dagster_types.number_validation_job,
        observations.observe_stock_files_job,
        run_config.repeat_job,
        sensors.ingest_file_job,
        backfills.daily_stock_files_job,
    ],
    schedules=[
        schedules.daily_math_schedule,
        schedules.daily_stock_files_schedule,
    ],
    sensors=[
        sensors.new_file_sensor,
    ],
    resources={
        # "io_manager" is the reserved key: the default storage of every asset output.
        "io_manager": FilesystemIOManager(base_dir=str(DATA_ROOT / "storage")),
        "json_io_manager": io_managers.JsonFileIOManager(base_dir=str(DATA_ROOT / "json")),
        # Left empty on purpose: each run resolves the folder itself (see LocalDataDir.root).
        "data_dir": LocalDataDir(),
        "stock_api": resources.stock_api_from_env,
    },
)
