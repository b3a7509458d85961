FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY seed ./seed
RUN pip install --no-cache-dir .
ENV INSTCAT_SEED_DIR=/app/seed
EXPOSE 8000
CMD ["sh", "-c", "instcat db upgrade && instcat seed && instcat serve --host 0.0.0.0 --port 8000 --workers 2"]
