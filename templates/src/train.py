"""Trains the model and logs it to MLflow (written by `mlops init`; make it yours).

`mlops train` creates the MLflow run (with git, data and CI tags) and runs this script with
MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME and MLFLOW_RUN_ID set: the script logs into that
run. Run on its own (no MLFLOW_RUN_ID), it starts a run of its own.

It reads data/raw.csv (DVC-tracked: `mlops pull`), holds out a stratified test split, fits a
scikit-learn pipeline, logs params, holdout metrics and the model (`runs:/<run id>/model`), and
writes the holdout set with labels and predictions to data/holdout.csv: the baseline that
`mlops monitor` compares live traffic with.

As a SageMaker training job (train.backend: sagemaker) it reads the "train" channel
(SM_CHANNEL_TRAIN), writes the holdout to SM_OUTPUT_DATA_DIR and the model also to SM_MODEL_DIR
(model.tar.gz); with several instances only the first host (SM_HOSTS) logs to MLflow.
"""
import json
import os
import sys
import tempfile
from pathlib import Path

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import evaluate  # noqa: E402

DATA = Path(os.environ.get("SM_CHANNEL_TRAIN", "data")) / "raw.csv"
HOLDOUT = (
    Path(os.environ["SM_OUTPUT_DATA_DIR"]) / "holdout.csv"
    if "SM_OUTPUT_DATA_DIR" in os.environ
    else Path(os.environ.get("MLOPS_HOLDOUT", "data/holdout.csv"))
)
# Distributed (SageMaker, InstanceCount > 1): every host trains; the first one logs the run.
LEADER = os.environ.get("SM_CURRENT_HOST", "") == json.loads(os.environ.get("SM_HOSTS", '[""]'))[0]
LABEL = "target"
PARAMS = {
    "model": "logistic_regression",
    "C": 1.0,
    "max_iter": 1000,
    "test_size": 0.2,
    "random_state": 42,
}


def main() -> int:
    if not DATA.exists():
        print(f"error: {DATA} is missing: run `mlops pull` (or `dvc repro prepare`) first", file=sys.stderr)
        return 2
    frame = pd.read_csv(DATA)
    features, labels = frame.drop(columns=[LABEL]), frame[LABEL]
    x_train, x_holdout, y_train, y_holdout = train_test_split(
        features, labels, test_size=PARAMS["test_size"], random_state=PARAMS["random_state"], stratify=labels
    )

    if not LEADER:
        print(f"{os.environ['SM_CURRENT_HOST']}: not the first host of {os.environ['SM_HOSTS']}, not logging")
        return 0
    run_id = os.environ.get("MLFLOW_RUN_ID")
    with mlflow.start_run(run_id=run_id) if run_id else mlflow.start_run():
        mlflow.log_params({**PARAMS, "n_train": len(x_train), "n_holdout": len(x_holdout), "n_features": features.shape[1]})

        model = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=PARAMS["C"], max_iter=PARAMS["max_iter"], random_state=PARAMS["random_state"]),
        )
        model.fit(x_train, y_train)

        metrics, predictions = evaluate(model, x_holdout, y_holdout)
        mlflow.log_metrics(metrics)
        print("holdout metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))

        holdout = x_holdout.copy()
        holdout[LABEL] = y_holdout.values
        holdout["prediction"] = predictions
        HOLDOUT.parent.mkdir(parents=True, exist_ok=True)
        holdout.to_csv(HOLDOUT, index=False)
        mlflow.log_artifact(str(HOLDOUT), artifact_path="baseline")

        signature = infer_signature(x_holdout, model.predict(x_holdout))
        mlflow.sklearn.log_model(model, name="model", signature=signature, input_example=x_holdout.head(3))
        # MLflow 3 keeps logged models apart from the run's artifacts; a copy under the run's
        # "model/" makes runs:/<run id>/model resolve over plain REST too (what promote registers).
        with tempfile.TemporaryDirectory() as tmp:
            mlflow.sklearn.save_model(model, os.path.join(tmp, "model"), signature=signature, input_example=x_holdout.head(3))
            mlflow.log_artifacts(os.path.join(tmp, "model"), artifact_path="model")
        if "SM_MODEL_DIR" in os.environ:
            mlflow.sklearn.save_model(model, os.environ["SM_MODEL_DIR"], signature=signature, input_example=x_holdout.head(3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
