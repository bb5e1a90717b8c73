"""The shipped sample catalogue's files and column mapping, shared by the demo, tests and benchmarks.

The files sit in the repository's `data/` folder, which a wheel does not carry (2.5 MB, under
their own licences): a source checkout finds them beside the code, an installed kgrec (the
Docker image included) through `KGREC_DATA_DIR`.
"""

from __future__ import annotations

import os
from pathlib import Path

from kgrec.graph.errors import InvalidArgumentError, NotFoundError

DATA_DIR_SETTING = "KGREC_DATA_DIR"
GOOGLE_TAXONOMY_EN = "google_taxonomy/taxonomy-with-ids.en-US.2021-09-21.txt"
GOOGLE_TAXONOMY_ZH = "google_taxonomy/taxonomy-with-ids.zh-CN.2015-02-19.txt"
AMAZON_TOYS = "amazon_toys_uk/amazon_co-ecommerce_sample.csv"
# The PromptCloud export's column names, mapped to kgrec's product fields.
AMAZON_TOYS_MAPPING = {
    "id": "uniq_id",
    "title": "product_name",
    "category_path": "amazon_category_and_sub_category",
    "brand": "manufacturer",
}


def sample_data_dir() -> Path:
    """`KGREC_DATA_DIR` when set, else `data/` beside the source tree."""
    configured = os.environ.get(DATA_DIR_SETTING)
    if configured:
        folder = Path(configured).expanduser()
        if not folder.is_dir():
            raise InvalidArgumentError(DATA_DIR_SETTING, f"{folder} is not a folder")
        return folder
    checkout = Path(__file__).resolve().parent.parent / "data"
    if not checkout.is_dir():
        raise NotFoundError(
            f"no sample data folder at {checkout} (kgrec is installed, not run from a checkout): "
            f"set {DATA_DIR_SETTING} to a copy of the repository's data/ folder"
        )
    return checkout


def sample_file(relative: str) -> Path:
    """One of the files above (`AMAZON_TOYS`, ...), checked to exist."""
    path = sample_data_dir() / relative
    if not path.is_file():
        raise NotFoundError(
            f"{path} does not exist: {DATA_DIR_SETTING} must name a copy of the repository's data/ folder"
        )
    return path
