"""A finished search's files: `trials.csv`, `best_hyperparameters.json`, `best_model.keras`
(+ its model card) and the printed table. Only COMPLETED trials can be best: diverged, invalid
and at-chance trials are FAILED (`tuning.trial_check`)."""

import csv
import io
import os
import warnings

from keras_seminar import saving
from keras_seminar._io import atomic_write, atomic_write_json
from keras_seminar._provenance import environment

__all__ = ["export", "print_table", "trial_rows"]


def trial_rows(oracle):
    """One dict per trial: id, status, score, tuner, then the hyperparameter values."""
    owners = oracle.trial_owners
    return [{"trial_id": t.trial_id, "status": t.status, "score": t.score,
             "tuner": owners.get(t.trial_id, ""), **t.hyperparameters.values}
            for t in sorted(oracle.trials.values(), key=lambda t: t.trial_id)]


def export(tuner, model_name, dataset, seconds, verbose=1):
    """Writes best_hyperparameters.json, trials.csv and best_model.keras; prints the table."""
    oracle, out = tuner.oracle, tuner.project_dir
    rows = trial_rows(oracle)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(os.path.join(out, "trials.csv"), buffer.getvalue())
    best = [t for t in oracle.get_best_trials(1) if t.status == "COMPLETED"]
    counts = {s: sum(r["status"] == s for r in rows) for s in ("COMPLETED", "FAILED", "INVALID", "RUNNING")}
    result = {"model": model_name, "dataset": dataset, "project_dir": out,
              "objective": oracle.objective.name, "trials": len(rows), "statuses": counts,
              "search_seconds": round(seconds, 1), "best": None, "environment": environment()}
    if best:
        trial = best[0]
        result["best"] = {"trial_id": trial.trial_id, "score": trial.score,
                          "hyperparameters": trial.hyperparameters.values}
        model_path = os.path.join(out, "best_model.keras")
        with warnings.catch_warnings():  # the checkpoint's optimizer slots are not needed here
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model = tuner.load_model(trial)
        model.optimizer.build(model.trainable_variables)  # so that the .keras file reloads cleanly
        card = saving.save_model(model, model_path, card={
            "architecture": model_name, "dataset": dataset, "tuning": result["best"]})
        result.update(model_path=model_path, sha256=card["sha256"])
    atomic_write_json(os.path.join(out, "best_hyperparameters.json"), result)
    if verbose:
        print_table(rows, oracle.objective.name)
    return result


def print_table(rows, objective, limit=10):
    """The best `limit` trials (COMPLETED first), one column per hyperparameter, as wide as
    its name and values need."""
    ranked = sorted(rows, key=lambda r: (r["status"] != "COMPLETED", -(r["score"] or 0)
                                         if "acc" in objective else (r["score"] or 0)))[:limit]
    names = [k for k in dict.fromkeys(k for r in rows for k in r)
             if k not in ("trial_id", "status", "score", "tuner") and not k.startswith("tuner/")]
    print(f"\nSearch summary: {len(rows)} trials, best {len(ranked)} of {len(rows)} by {objective}")
    table = [["trial", "status", objective, *names]]
    for r in ranked:
        cells = [r["trial_id"], r["status"], r["score"], *(r.get(n, "") for n in names)]
        table.append([f"{c:.4g}" if isinstance(c, float) else "" if c is None else str(c) for c in cells])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
