"""Exports the training data to data/raw.csv (the `prepare` stage of dvc.yaml).

Written by `mlops init`: the Wisconsin breast cancer data set that ships inside scikit-learn,
so nothing is downloaded. Replace it with your own export; DVC versions whatever lands in
data/raw.csv (`dvc repro prepare && dvc push`).
"""
from pathlib import Path

from sklearn.datasets import load_breast_cancer

OUT = Path("data/raw.csv")


def main() -> None:
    frame = load_breast_cancer(as_frame=True).frame
    # Plain column names: they become CSV headers, MLflow signature names and drift feature names.
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(frame)} rows, {frame.shape[1] - 1} features)")


if __name__ == "__main__":
    main()
