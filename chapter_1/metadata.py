"""Rich metadata: numbers, markdown, links and paths attached to assets.

Two kinds:

* definition metadata (``@asset(metadata=...)``): static facts about the asset, shown on its page;
* materialization metadata (returned in ``MaterializeResult``): facts about *this* run's output.
  Numeric values are plotted over time on the asset's "Plots" tab.
"""

from collections import defaultdict

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from chapter_1.assets import WEEK_START
from chapter_1.data_dir import LocalDataDir, ensure_stock_file, read_stock_rows


@asset(
    key_prefix="reports",
    group_name="metadata",
    kinds={"markdown"},
    metadata={
        "owner_team": "retail-analytics",
        "docs": MetadataValue.url("https://docs.dagster.io/guides/build/assets/metadata-and-tags"),
    },
)
def sales_report(context: AssetExecutionContext, data_dir: LocalDataDir) -> MaterializeResult:
    """Sales and units per category for the first day, written as a markdown report."""
    rows = read_stock_rows(ensure_stock_file(data_dir.folder("stock_files"), WEEK_START))
    sales: dict[str, float] = defaultdict(float)
    units: dict[str, int] = defaultdict(int)
    for row in rows:
        sales[row["Category"]] += float(row["Sales"])
        units[row["Category"]] += int(row["Quantity"])

    lines = ["| Category | Units | Sales |", "| --- | ---: | ---: |"]
    lines += [f"| {category} | {units[category]} | {sales[category]:.2f} |" for category in sorted(sales)]
    table = "\n".join(lines)
    report = data_dir.folder("reports") / "sales_report.md"
    report.write_text(f"# Sales on {WEEK_START.isoformat()}\n\n{table}\n")
    context.log.info(f"report written to {report}")

    return MaterializeResult(
        metadata={
            "row_count": MetadataValue.int(len(rows)),
            "total_sales": MetadataValue.float(round(sum(sales.values()), 2)),
            "summary": MetadataValue.md(table),  # rendered as a table in the UI
            "report_path": MetadataValue.path(str(report)),
            "source": MetadataValue.url("https://github.com/dagster-io/dagster"),
        }
    )
