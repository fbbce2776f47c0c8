"""Holdout evaluation for src/train.py (written by `mlops init`).

The metric names returned here are the names logged to MLflow, so they are the names the merge
gate (`compare.gates` in mlops.config.yaml) and `train.requiredMetrics` refer to.
"""
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_score, recall_score, roc_auc_score


def evaluate(model, features, labels) -> tuple[dict[str, float], list]:
    """Scores a fitted binary classifier on the holdout set; returns (metrics, predictions)."""
    predictions = model.predict(features)
    scores = model.predict_proba(features)[:, 1]
    metrics = {
        "accuracy": accuracy_score(labels, predictions),
        "f1": f1_score(labels, predictions),
        "precision": precision_score(labels, predictions, zero_division=0),
        "recall": recall_score(labels, predictions),
        "roc_auc": roc_auc_score(labels, scores),
        "log_loss": log_loss(labels, scores),
    }
    return {name: float(value) for name, value in metrics.items()}, list(predictions)
