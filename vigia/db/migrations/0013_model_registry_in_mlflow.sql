-- The model registry moves to MLflow, whose tracking server keeps runs and registered
-- models in this schema of the same database (it creates its own tables on first start).
-- Assessments keep naming their model by version; nothing referenced the old table.
CREATE SCHEMA IF NOT EXISTS mlflow;
DROP TABLE IF EXISTS models;
