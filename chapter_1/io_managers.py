"""IO managers: where an asset's returned value is stored, and how downstream assets load it.

The asset function returns a value; its IO manager writes it (``handle_output``). A downstream
asset that takes it as a parameter gets it back through the same IO manager (``load_input``). The
asset code never mentions paths, so swapping local files for S3 is a change in ``Definitions`` only.

* ``FilesystemIOManager`` (built in): pickles each asset into ``<base_dir>/<key path>``. Registered
  as ``io_manager``, it is the default for every asset of the chapter.
* ``JsonFileIOManager`` (below): a custom one, opted into with ``io_manager_key``.
"""

import json
from collections import Counter
from pathlib import Path

from dagster import AssetIn, ConfigurableIOManager, InputContext, MetadataValue, OutputContext, asset

from chapter_1.assets import WEEK_START
from chapter_1.data_dir import LocalDataDir, ensure_stock_file, read_stock_rows


class JsonFileIOManager(ConfigurableIOManager):
    """Stores each asset as pretty-printed JSON in ``<base_dir>/<key>/<parts>.json``."""

    base_dir: str

    def _path(self, context: OutputContext | InputContext) -> Path:
        # asset_key.path is e.g. ["reports", "category_totals"] -> <base_dir>/reports/category_totals.json
        *folders, name = context.asset_key.path
        return Path(self.base_dir, *folders, f"{name}.json")

    def handle_output(self, context: OutputContext, obj) -> None:
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=2, sort_keys=True))
        # Shown on the materialization: where the value went and how big it is.
        context.add_output_metadata({"path": MetadataValue.path(str(path)), "bytes": path.stat().st_size})

    def load_input(self, context: InputContext):
        # For an asset input, the InputContext's asset_key is the upstream asset's key.
        return json.loads(self._path(context).read_text())


@asset(key_prefix="reports", group_name="io_managers", io_manager_key="json_io_manager", kinds={"json"})
def category_totals(data_dir: LocalDataDir) -> dict[str, int]:
    """Units per category on the first day; the returned dict is written as JSON by JsonFileIOManager."""
    totals: Counter[str] = Counter()
    for row in read_stock_rows(ensure_stock_file(data_dir.folder("stock_files"), WEEK_START)):
        totals[row["Category"]] += int(row["Quantity"])
    return dict(sorted(totals.items()))


# No io_manager_key: the default "io_manager" (FilesystemIOManager) pickles this one. Its input is
# still read by JsonFileIOManager, because an input is loaded by the upstream asset's IO manager.
@asset(key_prefix="reports", group_name="io_managers", ins={"totals": AssetIn(key=category_totals.key)})
def top_category(totals: dict[str, int]) -> dict[str, object]:
    """The category that sold the most units, with its count."""
    best = max(totals, key=lambda category: totals[category])
    return {"category": best, "units": totals[best]}
