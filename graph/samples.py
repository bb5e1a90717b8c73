"""The shipped sample catalogue's layout, shared by the demo, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
GOOGLE_TAXONOMY_EN = DATA_DIR / "google_taxonomy" / "taxonomy-with-ids.en-US.2021-09-21.txt"
GOOGLE_TAXONOMY_ZH = DATA_DIR / "google_taxonomy" / "taxonomy-with-ids.zh-CN.2015-02-19.txt"
AMAZON_TOYS = DATA_DIR / "amazon_toys_uk" / "amazon_co-ecommerce_sample.csv"
# The PromptCloud export's column names, mapped to kgrec's product fields.
AMAZON_TOYS_MAPPING = {
    "id": "uniq_id",
    "title": "product_name",
    "category_path": "amazon_category_and_sub_category",
    "brand": "manufacturer",
}
