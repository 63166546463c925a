"""``shopmon model train|evaluate|predict|cv``: review classifiers on CSV/TSV/JSONL files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from monitor.cli.context import fit_progress, progress, ready_settings, settings_from
from monitor.errors import DataError

# Commands of `shopmon model`, merged into its app.
app = typer.Typer()

DataArg = Annotated[Path, typer.Argument(help="CSV, TSV or JSONL file with a `text` column.", show_default=False)]
LabelOpt = Annotated[str, typer.Option("--label", "-l", help="Column holding the true label.")]
PositiveOpt = Annotated[
    Optional[str],
    typer.Option("--positive", "-p", help="Label value of the positive class (binary). 0/1 and true/false need none; "
                 "without it other labels train a multi-class model."),
]
MapOpt = Annotated[
    Optional[list[str]],
    typer.Option("--map", "-m", help="Rename a column, SRC=DST (repeatable), e.g. --map review=text."),
]
ClfOpt = Annotated[str, typer.Option("--clf", help="Classifier: logreg (default), svm (calibrated linear SVM) or sgd "
                                     "(large files: a fixed number of passes, float32 features).")]
NbOpt = Annotated[Optional[bool], typer.Option(
    "--nb/--no-nb", help="NB-SVM log-count-ratio weights on the n-grams (default: the recipe's, see docs/detection.md).",
    show_default=False)]
StyleOpt = Annotated[Optional[bool], typer.Option(
    "--style/--no-style", help="Add the writing-style profile (function words, punctuation, repetition, "
    "burstiness, character 3-gram likelihood under genuine reviews).", show_default=False)]


HashingOpt = Annotated[Optional[bool], typer.Option(
    "--hashing/--no-hashing", help="Hash the n-grams instead of building a vocabulary (large files: bounded memory; "
    "reasons are read back from each text).", show_default=False)]


EdgesOpt = Annotated[Optional[bool], typer.Option(
    "--edges/--no-edges", help="Mark where each review starts and ends, so n-grams see how it begins and stops "
    "(generated text often stops mid-sentence).", show_default=False)]


TuneCOpt = Annotated[Optional[bool], typer.Option(
    "--tune-c/--no-tune-c", help="Logistic regression: pick its C by a 5-fold cross-validation of the training "
    "rows (25 more fits per model; within `model cv`, of each training fold only).", show_default=False)]


PerplexityOpt = Annotated[Optional[bool], typer.Option(
    "--perplexity/--no-perplexity", help="Add how surprising each text is to a character 5-gram language model "
    "of the genuine training reviews (mean and spread of log-probability per character).", show_default=False)]


def _recipe(clf: str, nb: bool | None, style: bool | None, hashing: bool | None = None,
            edges: bool | None = None, tune_c: bool | None = None, perplexity: bool | None = None) -> dict[str, Any]:
    """Classifier and feature switches given on the command line (unset ones keep the defaults)."""
    switches = {"nb": nb, "style": style, "hashing": hashing, "edges": edges, "tune_C": tune_c,
                "perplexity": perplexity}
    return {"clf": clf, **{k: v for k, v in switches.items() if v is not None}}


def _table(data: Path, label: str | None, positive: str | None, mapping: list[str] | None, id_column: str | None = None):  # noqa: ANN202
    from monitor.training.io import parse_mapping, read_table

    return read_table(data, label=label, positive=positive, mapping=parse_mapping(mapping), id_column=id_column)


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(type(value).__name__)


def _load(settings: Any, name: str, version: str | None):  # noqa: ANN202
    from monitor.registry import registry_for

    registry = registry_for(settings)
    estimator, meta = registry.load(name, version)
    return estimator, meta


def _threshold(meta: Any) -> float:
    return float(meta.thresholds.get("positive", 0.5))


@app.command("train")
def train_cmd(
    ctx: typer.Context,
    data: DataArg,
    name: Annotated[str, typer.Option("--name", "-n", help="Model name in the registry (e.g. malicious, deceptive).")],
    label: LabelOpt,
    positive: PositiveOpt = None,
    mapping: MapOpt = None,
    holdout: Annotated[float, typer.Option(help="Share of rows kept out of training to measure the version "
                                                "(stored for the promotion gate); 0 uses cross-validation only.")] = 0.2,
    folds: Annotated[int, typer.Option(min=1, help="Folds used to pick the decision threshold; 1: one fit, the "
                                                   "threshold picked on 10% of the training rows held back (large files).")] = 5,
    clf: ClfOpt = "logreg",
    nb: NbOpt = None,
    style: StyleOpt = None,
    hashing: HashingOpt = None,
    edges: EdgesOpt = None,
    tune_c: TuneCOpt = None,
    perplexity: PerplexityOpt = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html next to the version.")] = True,
    allow_low_recall: Annotated[bool, typer.Option(
        "--allow-low-recall", help="Register even when the precision target is met only below detection.min_recall "
        "(the version, `model list` and `model show` then carry a warning).")] = False,
) -> None:
    """Train a model on a labeled file, register it as a new version, print the version id last.

    The first version of a name goes live; later ones wait for `shopmon model promote`. The decision threshold is set from out-of-fold scores to reach detection.precision_target.
    """  # noqa: E501
    from monitor.db import session_scope
    from monitor.registry import check_name, registry_for
    from monitor.training.fit import save_trained, train
    from monitor.training.recipe import check_options

    check_name(name)
    settings = ready_settings(ctx)
    progress(f"reading {data} ...")
    table = _table(data, label, positive, mapping)
    check_options(table, holdout=holdout, clf=clf, folds=folds)
    progress(f"training {name} on {len(table.frame)} rows ({folds}-fold thresholds, {holdout:.0%} held out) ...")
    with fit_progress(f"training {name}") as step:
        trained = train(table, precision_target=settings.detection.precision_target, folds=folds, holdout=holdout,
                        min_recall=settings.detection.min_recall, progress=step,
                        **_recipe(clf, nb, style, hashing, edges, tune_c, perplexity))
    warning = trained.params.get("threshold_warning")
    if warning and not allow_low_recall:
        raise DataError(f"{name} not registered: {warning}. Label more examples, lower "
                        "detection.precision_target, or pass --allow-low-recall to register it with this warning")
    trained.params["source"] = str(data)
    with session_scope(settings) as session:
        registry = registry_for(settings, session=session)
        version = save_trained(registry, name, trained, data_fingerprint="sha256:" + table.fingerprint())
        folder = Path(registry.meta(name, version).path)
    if report:
        progress("writing report.html ...")
        _write_report(folder, name, version, trained, table)
    if warning:
        typer.echo(f"WARNING: {version}: {warning}", err=True)
    m = trained.metrics
    p = trained.params
    # --folds 1 fits on fewer rows than it was given: say where the threshold's rows went.
    rows = (f"{p['fitted_rows']} rows, threshold picked on {p['threshold_rows']} rows held back from that fit"
            if folds == 1 else f"{p['fitted_rows']} rows")
    typer.echo(f"trained {name} on {rows}; {m.get('evaluated_on')}: accuracy {m['accuracy']:.4f}, f1 {m['f1']:.4f}")
    typer.echo(version)


def _write_report(folder: Path, name: str, version: str, trained: Any, table: Any) -> None:
    try:
        from monitor.training.report import write_report
    except ModuleNotFoundError as exc:  # the analysts' report module is optional here
        if exc.name != "monitor.training.report":
            raise
        return
    from monitor.training.predict import score

    held = trained.holdout
    cv = trained.metrics.get("cv") or {}
    cv_name = f"Cross-validation ({cv.get('folds', '?')}-fold, out-of-fold scores of the training rows)"
    if held is not None:
        y, s, texts = held.y, score(trained.estimator, held, trained.params), held.frame["text"].tolist()
        evaluation, others = "Held-out evaluation", {cv_name: cv}
    else:
        y, s, texts = table.y, trained.oof_scores, table.frame["text"].tolist()
        evaluation, others = cv_name, {}
    binary = table.positive is not None
    write_report(
        folder,
        title=f"{version}: {evaluation.split(' (')[0].lower()}",
        y_true=y,
        scores=s,
        threshold=trained.threshold if binary else trained.thresholds,
        feature_importance=_importance(trained.estimator),
        texts=texts,
        classes=None if binary else [str(c) for c in trained.estimator.classes_],
        precision_target=trained.params["precision_target"],
        evaluation=evaluation,
        other_evaluations=others,
    )


def _importance(estimator: Any, k: int = 25) -> list[tuple[str, float]] | None:
    """Largest linear weights (positive class / first class), named by their n-gram."""
    import numpy as np

    try:
        names = estimator.named_steps["features"].get_feature_names_out()
        clf = estimator.named_steps["clf"]
        coef = getattr(clf, "coef_", None)
        if coef is None and hasattr(clf, "estimators_"):
            coef = clf.estimators_[0].coef_
        if coef is None:
            return None
        w = np.asarray(coef)[0]
    except (AttributeError, KeyError, ValueError):
        return None
    top = np.argsort(-np.abs(w))[:k]
    return [(str(names[i]).split("__")[-1], float(w[i])) for i in top]


@app.command("evaluate")
def evaluate_cmd(
    ctx: typer.Context,
    data: DataArg,
    model: Annotated[str, typer.Option("--model", help="Registry model name.")],
    label: LabelOpt,
    positive: PositiveOpt = None,
    mapping: MapOpt = None,
    version: Annotated[Optional[str], typer.Option(help="Version id (default: the live one).")] = None,
) -> None:
    """Score a labeled file with a registered model and print metrics as JSON.

    Metrics: accuracy, precision, recall, f1, roc_auc, pr_auc and the confusion matrix ([[tn, fp], [fn, tp]] for binary models), at the version's decision threshold.
    """  # noqa: E501
    from monitor.training.predict import evaluate

    settings = settings_from(ctx)
    estimator, meta = _load(settings, model, version)
    if positive is None and meta.params.get("positive") is not None and meta.params.get("label_column") == label:
        positive = meta.params["positive"]
    table = _table(data, label, positive, mapping)
    metrics = evaluate(estimator, table, meta.params, _threshold(meta))
    metrics["model_version"] = meta.version
    _print_json(metrics)


@app.command("predict")
def predict_cmd(
    ctx: typer.Context,
    data: DataArg,
    model: Annotated[str, typer.Option("--model", help="Registry model name.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here (.csv, .tsv or .jsonl) "
                                                   "instead of CSV on stdout.")] = None,
    mapping: MapOpt = None,
    id_column: Annotated[Optional[str], typer.Option(help="Column to copy as `id` (default: id or review_id, "
                                                      "else the 1-based row number).")] = None,
    version: Annotated[Optional[str], typer.Option(help="Version id (default: the live one).")] = None,
) -> None:
    """Write one row per input row, in input order: id, score (positive-class probability), label."""
    from monitor.training.predict import predict_frame

    settings = settings_from(ctx)
    estimator, meta = _load(settings, model, version)
    table = _table(data, None, None, mapping, id_column)
    frame = predict_frame(estimator, table, meta.params, _threshold(meta))
    if output is None:
        typer.echo(frame.to_csv(index=False), nl=False)
        return
    suffix = output.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            frame.to_json(output, orient="records", lines=True, force_ascii=False)
        elif suffix in (".tsv", ".tab"):
            frame.to_csv(output, sep="\t", index=False)
        elif suffix == ".csv":
            frame.to_csv(output, index=False)
        else:
            raise DataError(f"--output {output}: use a .csv, .tsv or .jsonl file name")
    except OSError as exc:
        raise DataError(f"cannot write {output}: {exc.strerror}") from None
    typer.echo(f"wrote {len(frame)} predictions to {output} ({meta.version})", err=True)


@app.command("cv")
def cv_cmd(
    data: DataArg,
    label: LabelOpt,
    positive: PositiveOpt = None,
    mapping: MapOpt = None,
    folds: Annotated[int, typer.Option(min=2, help="Number of folds.")] = 5,
    group_column: Annotated[Optional[str], typer.Option(help="Keep rows with the same value of this column in the "
                                                         "same fold (e.g. fold, hotel, reviewer_id).")] = None,
    clf: ClfOpt = "logreg",
    nb: NbOpt = None,
    style: StyleOpt = None,
    hashing: HashingOpt = None,
    edges: EdgesOpt = None,
    tune_c: TuneCOpt = None,
    perplexity: PerplexityOpt = None,
) -> None:
    """Cross-validate the training recipe on a labeled file and print metrics as JSON."""
    from monitor.training.folds import cross_validate

    table = _table(data, label, positive, mapping)
    with fit_progress("cross-validating") as step:
        metrics = cross_validate(table, folds=folds, group_column=group_column, progress=step,
                                 **_recipe(clf, nb, style, hashing, edges, tune_c, perplexity))
    _print_json(metrics)
