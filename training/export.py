"""Write a trained network as a model directory (see `pipeline.artifact` for the format).

The directory is built in a staging dir next to the target and renamed into place, so a
crash never leaves a half-written model and an existing model is never overwritten.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.artifact import FORMAT_VERSION, LABELS, publish, verify_dir
from pipeline.network import quiet_transformers, save_network

log = logging.getLogger(__name__)


def export_artifact(
    target: str | Path,
    network: Any,
    tokenizer: Any,
    manifest: dict[str, Any],
    train_log: dict[str, Any] | None = None,
) -> Path:
    """Publish `network` (a peft model for kind "lora", a transformers model for "full")."""
    manifest = {"format_version": FORMAT_VERSION, "labels": list(LABELS), **manifest}
    manifest.setdefault("created_at", datetime.now(UTC).isoformat(timespec="seconds"))

    def fill(staging: Path) -> dict[str, Any]:
        _save_weights(network, manifest, staging)
        tokenizer.save_pretrained(str(staging))
        (staging / "README.md").write_text(model_card(manifest), encoding="utf-8")
        log = {"manifest": {k: v for k, v in manifest.items() if k != "files"}, **(train_log or {})}
        (staging / "train_log.json").write_text(json.dumps(log, indent=2) + "\n", "utf-8")
        return manifest

    return publish(target, fill)


def refresh_card(model_dir: str | Path, notes: str, fields: dict[str, Any] | None = None) -> Path:
    """Republish `model_dir` with `notes` (markdown) added to its model card and `fields`
    set in its manifest (measurements made after training, e.g. out-of-fold error rates).

    Weights are untouched; the directory is rebuilt next to the old one and swapped in by
    renames, so it is never half-written."""
    model_dir = Path(model_dir)
    old = verify_dir(model_dir)
    manifest = {**old, **_with_metrics(model_dir, old, fields or {})}
    fresh = model_dir.with_name(f".{model_dir.name}.card-new")
    stale = model_dir.with_name(f".{model_dir.name}.card-old")

    def fill(staging: Path) -> dict[str, Any]:
        for name in manifest["files"]:
            if name != "README.md":
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(model_dir / name, staging / name)
        (staging / "README.md").write_text(model_card(manifest, notes), encoding="utf-8")
        return {k: v for k, v in manifest.items() if k != "files"}

    publish(fresh, fill)
    os.rename(model_dir, stale)
    os.rename(fresh, model_dir)
    shutil.rmtree(stale)  # including any derived cache (onnx/), rebuilt on demand
    return model_dir


def _with_metrics(model_dir: Path, old: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """`fields`, with the validation metrics measured again when they change the threshold:
    the old ones would report F1 at a threshold the model no longer decides at."""
    if "metrics" in fields or fields.get("threshold", old["threshold"]) == old["threshold"]:
        return fields
    from training.data import TrainingDataError
    from training.evaluate import revalidated

    try:
        return {**fields, "metrics": revalidated(model_dir, fields["threshold"])}
    except TrainingDataError as e:  # its data is gone: report no validation metrics at all
        log.warning("validation metrics dropped from the card, not measured again: %s", e)
        return {**fields, "metrics": {k: v for k, v in old["metrics"].items() if k != "validation"}}


def _save_weights(network: Any, manifest: dict[str, Any], staging: Path) -> None:
    kind = manifest["weights"]["kind"]
    with quiet_transformers():
        save_network(network, staging, kind)
    if kind == "lora":
        # The adapter config records this machine's path to the base; keep the stable id.
        path = staging / "adapter_config.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        config["base_model_name_or_path"] = manifest["base_model"]["id"]
        path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def model_card(manifest: dict[str, Any], notes: str = "") -> str:
    """README.md for the model directory: data, protocol, results, threshold, limits."""
    metrics = manifest.get("metrics", {})
    rates = manifest["error_rates"]
    validation = metrics.get("validation", {})
    rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in validation.items() if _scalar(v))
    data = "\n".join(
        f"- `{Path(d['path']).name}`: {d['rows']} rows, sha256 `{d['sha256'][:16]}...`"
        for d in manifest["training"]["data"]
    ) + _replayed(manifest)
    return CARD.format(
        base=_base_line(manifest),
        kind=manifest["weights"]["kind"],
        created=manifest["created_at"],
        threshold=manifest["threshold"],
        rule=manifest.get("threshold_rule", {}).get("rule", ""),
        fitted_on=manifest.get("threshold_rule", {}).get("fitted_on", "validation split"),
        temperature=manifest["calibration"]["temperature"],
        sens=_fmt(rates["sensitivity"]),
        spec=_fmt(rates["specificity"]),
        n_pos=rates["n_pos"],
        n_neg=rates["n_neg"],
        data=data,
        rows=rows or "| (none) | |",
        cleaning=manifest["cleaning_version"],
        generic=_generic_section(manifest),
        prevalence=_prevalence_line(manifest),
    ) + (f"\n{notes.strip()}\n" if notes else "")


def _replayed(manifest: dict[str, Any]) -> str:
    """The earlier generations' files a fine-tune replayed and was judged on."""
    earlier = manifest["training"].get("lineage", [])[:-1]
    replayed = manifest["training"].get("replay", {}).get("rows", 0) > 0
    role = "replayed, its" if replayed else "not replayed (no replay rows); its"
    return "".join(
        f"\n- `{Path(d['path']).name}`: {d['rows']} rows, sha256 `{d['sha256'][:16]}...`"
        f" (an earlier generation's data: {role} held-out rows judged the promotion)"
        for entry in earlier
        for d in entry["data"]
    )


def _base_line(manifest: dict[str, Any]) -> str:
    """The base encoder, and for a student the layers it keeps and its teacher."""
    entry = manifest["base_model"]
    if not entry.get("layers"):
        return entry["id"]
    teacher = manifest.get("training", {}).get("config", {}).get("distill", {}).get("teacher")
    taught = f", distilled from `{teacher}`" if teacher else ""
    return f"{entry['id']} (student: encoder layers {entry['layers']} only{taught})"


def _prevalence_line(manifest: dict[str, Any]) -> str:
    """Which counts and rates the report's Rogan-Gladen correction uses."""
    entry = manifest.get("prevalence")
    if not entry:
        return "- The report's prevalence correction (Rogan-Gladen) uses these rates.\n"
    r = entry["error_rates"]
    source = entry.get("source", "the validation split")
    return (
        f"- The report's prevalence correction (Rogan-Gladen) counts comments at p_spam >= "
        f"{entry['threshold']} and uses sensitivity {_fmt(r['sensitivity'])} (n_pos = "
        f"{r['n_pos']}) and specificity {_fmt(r['specificity'])} (n_neg = {r['n_neg']}) "
        f"measured there on {source}.{_spread_sentence(entry.get('between_groups'))}\n"
    )


def _spread_sentence(spread: dict[str, Any] | None) -> str:
    if not spread:
        return ""
    groups = (spread.get("sensitivity_groups"), spread.get("specificity_groups"))
    counted = f" ({groups[0]} and {groups[1]} groups)" if None not in groups else ""
    parent = spread.get("inherited_from")
    measured = f", as measured for the parent model `{parent}`" if parent else ""
    return (
        f" From one video or post owner to the next they spread with standard deviations "
        f"{_fmt(spread['sensitivity_sd'])} and {_fmt(spread['specificity_sd'])}{counted}"
        f"{measured}; the corrected share's interval carries that spread."
    )


def _scalar(value: Any) -> bool:
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def _generic_section(manifest: dict[str, Any]) -> str:
    """The p_generic head: what it means, how its labels were made, how well it ranks."""
    head = manifest.get("heads", {}).get("p_generic")
    if head is None:
        return ""
    from training.generic_labels import load_rules, rules_markdown

    record = manifest["training"].get("generic_labels", {})
    scores = manifest.get("metrics", {}).get("validation_generic", {})
    return GENERIC_CARD.format(
        temperature=_fmt(head.get("temperature", 1.0)),
        rules=rules_markdown(load_rules()),
        n_generic=record.get("examples_generic", "?"),
        n_specific=record.get("examples_specific", "?"),
        auc=_fmt(scores.get("roc_auc", "n/a")),
        n=scores.get("n", "?"),
        n_pos=scores.get("n_generic", "?"),
    )


GENERIC_CARD = """
## Second head: p_generic
`p_generic` (logit columns 2-3, temperature {temperature}) is the probability that a comment is
post-agnostic, low-effort text that could be posted unchanged under any post ("Amazing 🔥").
It describes the text, not its author: the audit calls a comment `coordinated generic` only
when a behavioural signal comes with it (pipeline/verdict.py). Both heads share the encoder,
so one forward pass gives both scores.

{rules}
Training examples with a generic label: {n_generic} generic, {n_specific} specific (the rest
are left out of the generic loss). On the validation split (held-out owners and videos):
ROC-AUC {auc} over {n} labelled texts ({n_pos} generic). More in `docs/generic.md`.
"""


CARD = """# comment-audit spam classifier

Binary classifier (`genuine` / `spam`) for social-media comments: {base} with mean
pooling and a linear head, fine-tuned ({kind} weights). Created {created}. Cleaning version
`{cleaning}` (text is cleaned with `pipeline.clean` before the model sees it, in training
and in scoring alike).

## Training data
{data}

Sources and licences:
- UCI YouTube Spam Collection (CC BY 4.0). Alberto, T.C., Lochter, J.V., Almeida, T.A.
  "TubeSpam: Comment Spam Filtering on YouTube." ICMLA 2015, pp. 138-143,
  doi:10.1109/ICMLA.2015.37.
- ScamSpot Instagram comments (MIT licence), Stefan Erben, 2023.

Texts are deduplicated before a grouped train/validation split (by post owner, post or
video), so validation numbers are on posts the model did not train on. The DATE column of
the YouTube data leaks the label and is never used.

## Validation results (held-out groups)
| metric | value |
|---|---|
{rows}

Cross-validated protocols (leave-one-video-out, grouped by post owner, cross-domain) and a
TF-IDF baseline are in `docs/evaluation.md`.

## Decision threshold and calibration
- Probabilities are temperature-scaled (T = {temperature}) on validation logits.
- `predict` flags spam at calibrated p_spam >= **{threshold}** ({rule}).
- At that threshold, on the {fitted_on}: sensitivity {sens} (n_pos = {n_pos}), specificity
  {spec} (n_neg = {n_neg}).
{prevalence}
{generic}
## Limits
- "Spam" means promotional or scam spam (self-promotion, links, crypto/investment scams).
  Short generic praise ("wow", "love it") is labelled genuine in both datasets, so the
  spam head does not flag generic bot praise; p_generic plus the copy-paste, repeat and
  burst signals do (the `coordinated generic` verdict).
- The vocabulary is uncased English WordPiece. Emoji reach the model as their names (the
  cleaning spells them out: "🔥" is "fire"; raw, most would be [UNK]); non-English
  comments are scored less reliably.
- Training data is from 2013-15 music videos and 2023 finance/crypto Instagram posts;
  spam styles drift, so check the error rates on your own labelled sample.
- ScamSpot labels were partly rule-made before review and are noisy.
"""
