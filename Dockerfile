# kgrec API image. Neo4j runs as its own service (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    KGREC_DATA_DIR=/app/data
# libgomp1: the OpenMP runtime LightGBM (the learned ranker) links against; slim lacks it.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY embeddings ./embeddings
COPY recommender ./recommender
COPY evaluation ./evaluation
COPY api ./api
COPY data ./data
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["kgrec", "serve", "--host", "0.0.0.0", "--port", "8000"]
