# kgrec developer entry points. Everything runs from a local virtualenv in .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KGREC := $(VENV)/bin/kgrec
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# The demo serves English and Chinese shoppers from one multilingual text space (README: picking
# an encoder); `make demo DEMO_ENCODER=minilm` for the English-only default.
DEMO_ENCODER ?= use-multilingual
TOYS := data/amazon_toys_uk/amazon_co-ecommerce_sample.csv
TOYS_MAP := --map id=uniq_id --map title=product_name \
	--map category_path=amazon_category_and_sub_category --map brand=manufacturer

.PHONY: install neo4j-jars demo demo-load test test-fast lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

neo4j-jars: install
	$(KGREC) neo4j install

demo-load: install
	$(KGREC) neo4j start
	$(KGREC) load taxonomy data/google_taxonomy/taxonomy-with-ids.en-US.2021-09-21.txt
	$(KGREC) load taxonomy data/google_taxonomy/taxonomy-with-ids.zh-CN.2015-02-19.txt
	$(KGREC) load products $(TOYS) --taxonomy amazon_uk --currency GBP $(TOYS_MAP)
	$(KGREC) stats

demo: demo-load
	$(KGREC) models use $(DEMO_ENCODER)
	$(KGREC) train --if-stale
	$(KGREC) align-taxonomy --from amazon_uk --to google
	@echo
	@echo "Neo4j Browser: http://127.0.0.1:7474/browser/?dbms=bolt://127.0.0.1:7687"
	@echo "  user neo4j, password in var/secrets/neo4j_password (or \$$KGREC_NEO4J_PASSWORD)"
	@echo "  paste: MATCH path = (p:Product)-[:IN_CATEGORY]->(:Category)-[:SUBCATEGORY_OF*0..3]->(:Category)"
	@echo "         WHERE p.title CONTAINS 'Hornby' RETURN path LIMIT 25"
	@echo "API:           http://127.0.0.1:8000  (OpenAPI docs: http://127.0.0.1:8000/docs)"
	@echo "  admin key in var/secrets/api_key (or \$$KGREC_API_KEY)"
	@echo "Try:"
	@echo "  curl -s -X POST http://127.0.0.1:8000/v1/recommendations -H 'content-type: application/json' \\"
	@echo "       -d '{\"query\": \"wooden train set\", \"k\": 5, \"diversity\": 0.6}'"
	@echo "  $(KGREC) recommend \"wooden train set\" -k 5 --diversity 0.6"
	@echo "Browser style: $(KGREC) browser style   (paste its output into Browser)"
	@echo "Browser guide: :play http://localhost:8000/ui/guide.html"
	@echo
	@echo "Try it in a web browser: http://127.0.0.1:8000/ui/"
	@echo
	$(KGREC) serve --host 127.0.0.1 --port 8000

# One worker more than the 2 cores: each worker also waits (JVM starts, subprocesses, HTTP,
# Chromium), and a third fills those waits (docs/testing.md, session 12). `make test TEST_WORKERS=n`.
TEST_WORKERS ?= 3

test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The fast tier: no Neo4j, no training, no model loading (markers `neo4j` and `slow`), < 60 s.
test-fast: install
	$(PY) -m pytest -m "not neo4j and not slow"

lint: install
	$(VENV)/bin/ruff check graph embeddings recommender evaluation api tests bench
	rm -rf build/typecheck && mkdir -p build/typecheck/kgrec
	for pkg in graph embeddings recommender evaluation api; do ln -s ../../../$$pkg build/typecheck/kgrec/$$pkg; done
	$(VENV)/bin/mypy

bench: install
	$(PY) -m bench.startup_bench
	$(PY) -m bench.load_bench
	$(PY) -m bench.encoder_bench
	$(PY) -m bench.train_bench
	$(PY) -m bench.recommend_bench
	$(PY) -m bench.api_bench
	$(PY) -m bench.eval_bench

clean:
	-$(KGREC) neo4j stop
	rm -rf var reports
