"""The `advisor` command: parses options, hands off to the library, prints what came back."""

from __future__ import annotations

import logging
import os
import sys
import textwrap
import traceback
from pathlib import Path

import click

from advisor.errors import AdvisorError


@click.group()
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="dsmr-advisor")
def cli(debug: bool) -> None:
    """Measure how to customize an LLM for your documents, and recommend one way, with evidence."""
    # --debug is read in main(), which reports errors after click has returned


@cli.command()
@click.argument("corpus_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--probes", "probes_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Probe set (JSONL). Without it, probes are generated from the documents.")
@click.option("--strategies", help="Comma-separated strategy names (default: all built-ins); join names with "
                                   "'+' for a combination, e.g. rag+lora. The baseline always runs as the control.")
@click.option("--model", default=None, help="Packaged model name or a local model folder [smollm2-135m].")
@click.option("--backend", type=click.Choice(["hf", "vllm", "openai", "fake"]), default=None,
              help="Backend [hf]; vllm: vLLM's engine on a CUDA GPU (pip install 'dsmr-advisor[gpu]').")
@click.option("--base-url", default=None, help="OpenAI-compatible server URL (openai backend).")
@click.option("--teacher", default=None, help="Helper model for rewriting and augmentation: a model name, "
                                              "folder, or an OpenAI-compatible URL [the base model].")
@click.option("--teacher-model", default=None, help="Model name to request from a --teacher URL.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run directory [advisor-runs/CORPUS-MODEL]; re-running resumes it.")
@click.option("--queries", type=int, default=None, help="Expected queries per month, to amortize fit cost [10000].")
@click.option("--set", "settings", multiple=True, metavar="STRATEGY.PARAM=VALUE",
              help="Set a strategy parameter, e.g. --set rag.k=6 (repeatable); it applies inside combinations too, "
                   "unless one overrides it: --set rag+lora.rag.k=8.")
@click.option("--chroma-url", default=None, help="Use a Chroma server for RAG instead of the embedded store.")
@click.option("--batch-size", type=int, default=None, help="Generation batch size [16].")
@click.option("--dtype", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default=None,
              help="Weights precision for local models [auto: bf16 where the hardware supports it].")
@click.option("--seed", type=int, default=None, help="Seed for splits, sampling and training [0].")
@click.option("--hourly-rate", type=float, default=None, help="USD per hour of local device time [0.10 CPU, 2.00 GPU].")
@click.option("--prices", "prices_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON price table (USD per 1M tokens) overriding the shipped one.")
@click.option("--mix", default=None, metavar="KIND=SHARE,...",
              help="Share of your traffic per probe kind, e.g. fact=0.6,form=0.3,style=0.1 [the test split's shares].")
@click.option("--value-per-answer", type=float, default=None, metavar="USD",
              help="What a correct answer is worth; the pick then maximizes net value per month.")
@click.option("--min-accuracy", type=float, default=None, help="Constraint: minimum accuracy on the mix (0-1).")
@click.option("--max-p95-ms", type=float, default=None, help="Constraint: maximum single-request p95 latency in ms.")
@click.option("--budget", type=float, default=None, help="Constraint: USD per month at --queries per month.")
@click.option("--material-usd", type=float, default=None,
              help="A cheaper strategy in the tie band wins only if it saves more than this a month [10] ...")
@click.option("--material-share", type=float, default=None, help="... and more than this share of the leader's cost [0.10].")
@click.option("--repeats", type=int, default=None, help="Run seed-dependent strategies with this many seeds [1].")
@click.option("--latency-probes", type=int, default=None,
              help="Test probes answered one at a time to measure single-request latency [4; 0: skip].")
@click.option("--fit-budget", type=float, default=None,
              help="Safety limit in wall-clock seconds for prompt refinement; a cut is reported.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML file with any of these options; strategy parameters under [params.NAME].")
@click.option("--no-combine", is_flag=True, default=None,
              help="Do not run the combination of per-kind winners after the single strategies.")
@click.option("--no-cache", is_flag=True, help="Do not reuse or store cached responses.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default=None,
              help="Run strategies in this process, or each as a Ray task [local].")
@click.option("--ray-address", default=None, metavar="ADDR",
              help="Ray cluster to join, e.g. 10.0.0.5:6379 [with --executor ray: a new local Ray instance].")
@click.option("--ray-resources", multiple=True, metavar="STRATEGY.RESOURCE=N",
              help="Ray resources for a strategy or family, e.g. lora.num_gpus=1 (repeatable) "
                   "[1 CPU; training also 1 GPU where the cluster has GPUs].")
@click.option("--mlflow", "mlflow_uri", is_flag=False, flag_value="", default=None, metavar="[URI]",
              help="Log one MLflow run per strategy under an experiment named after the corpus, at URI "
                   "[no value: MLflow's default, $MLFLOW_TRACKING_URI].")
def evaluate(corpus_dir: Path, probes_path, strategies, model, backend, base_url, teacher, teacher_model, out_dir,
             queries, settings, chroma_url, batch_size, dtype, seed, hourly_rate, prices_path, mix, value_per_answer,
             min_accuracy, max_p95_ms, budget, material_usd, material_share, repeats, latency_probes, fit_budget,
             config_path, no_combine, no_cache, quiet, executor, ray_address, ray_resources, mlflow_uri) -> None:
    """Run strategies on CORPUS_DIR's documents and probes, rank them and write a report."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # weight-loading bars would bury the run's own progress
    from advisor.config import build_run_config
    from advisor.execution.resources import parse_resource_settings
    from advisor.evaluation.progress import Progress
    from advisor.report.context import ranking_of
    from advisor.evaluation.runner import evaluate as run_evaluation

    config = build_run_config(
        corpus_dir, config_path=config_path, settings=settings, strategies=strategies, chroma_url=chroma_url,
        no_cache=no_cache, mix=mix,
        decision={"value_per_answer_usd": value_per_answer, "min_accuracy": min_accuracy, "max_p95_ms": max_p95_ms,
                  "budget_usd_per_month": budget, "material_usd_per_month": material_usd,
                  "material_share": material_share},
        options={"probes_path": probes_path, "model": model, "backend": backend, "base_url": base_url,
                 "teacher": teacher, "teacher_model": teacher_model, "out_dir": out_dir, "queries": queries,
                 "batch_size": batch_size, "dtype": dtype, "seed": seed, "hourly_rate_usd": hourly_rate,
                 "prices_path": prices_path, "fit_budget_s": fit_budget, "repeats": repeats,
                 "latency_probes": latency_probes, "combine": False if no_combine else None,
                 "executor": executor, "ray_address": ray_address, "mlflow_uri": mlflow_uri,
                 "ray_resources": parse_resource_settings(ray_resources) or None})
    run, run_dir = run_evaluation(config, progress=Progress(enabled=not quiet), echo=click.echo)
    verdict = ranking_of(run).verdict
    click.echo("")
    click.echo(f"Recommendation: {verdict.headline}")
    for reason in verdict.reasons:
        click.echo(f"  - {reason}")
    if verdict.details:
        click.echo(f"  ({len(verdict.details)} more details in the report)")
    click.echo(f"Report: {run_dir / 'report.html'}")
    click.echo(f"        {run_dir / 'report.md'}")
    click.echo(f"        {run_dir / 'results.json'}")


@cli.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json", "all"]), default="all",
              help="Which report to re-render [all].")
def report(run_dir: Path, fmt: str) -> None:
    """Re-render the reports of a finished run from its results.json."""
    from advisor.report import load_run, write_reports

    run = load_run(run_dir)
    formats = ("json", "md", "html") if fmt == "all" else (fmt,)
    for path in write_reports(run, run_dir, formats=formats).values():
        click.echo(str(path))


@cli.command()
@click.argument("run_a", type=click.Path(exists=True, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["md", "json", "html"]), default="md", help="Output format [md].")
def compare(run_a: Path, run_b: Path, fmt: str) -> None:
    """Compare two runs (directories or results.json): accuracy, flipped probes, cost, latency, recommendation."""
    from advisor.report import load_run
    from advisor.comparison.runs import compare_runs

    comparison = compare_runs(load_run(run_a), load_run(run_b), label_a=str(run_a), label_b=str(run_b))
    if fmt == "json":
        click.echo(comparison.model_dump_json(indent=2))
    elif fmt == "html":
        from advisor.report.comparison_html import render_comparison_html

        click.echo(render_comparison_html(comparison))
    else:
        from advisor.report.comparison import render_comparison_markdown

        click.echo(render_comparison_markdown(comparison), nl=False)


@cli.command()
@click.argument("run", type=click.Path(exists=True, path_type=Path))
@click.option("--against", "baseline", type=click.Path(exists=True, path_type=Path), default=None,
              help="Baseline run to compare with (directory or results.json).")
@click.option("--max-drop", type=click.FloatRange(min=0), default=None, metavar="POINTS",
              help="Fail a strategy whose accuracy fell by more than POINTS percentage points against the "
                   "baseline and significantly (McNemar, Holm) [0 with --against].")
@click.option("--any-drop", is_flag=True, help="Fail drops beyond --max-drop even when they are not significant.")
@click.option("--min-accuracy", "min_accuracy", multiple=True, metavar="NAME=VALUE",
              help="Fail if strategy NAME's accuracy is below VALUE (0-1), e.g. rag=0.25 (repeatable).")
@click.option("--fail-on-recommendation-change", is_flag=True, help="Fail if the recommended strategy changed.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write JUnit XML, one test case per strategy.")
def check(run: Path, baseline: Path | None, max_drop, any_drop, min_accuracy, fail_on_recommendation_change,
          junit_path: Path | None) -> None:
    """Gate a run for CI: exit 1 if a strategy failed, fell below a floor or regressed against a baseline."""
    from advisor.errors import InputError
    from advisor.comparison.gates import GateOptions, check_run, parse_min_accuracy, summary_lines
    from advisor.report import load_run
    from advisor.comparison.runs import compare_runs

    if baseline is None and (max_drop is not None or any_drop or fail_on_recommendation_change):
        raise InputError("--max-drop, --any-drop and --fail-on-recommendation-change need --against BASELINE_RUN")
    current = load_run(run)
    options = GateOptions(min_accuracy=parse_min_accuracy(min_accuracy, [s.name for s in current.strategies]),
                          max_drop_points=0.0 if baseline is not None and max_drop is None else max_drop,
                          any_drop=any_drop, fail_on_recommendation_change=fail_on_recommendation_change)
    comparison = None
    if baseline is not None:
        comparison = compare_runs(load_run(baseline), current, label_a=str(baseline), label_b=str(run))
        if comparison.shared_probes == 0:
            raise InputError("shares no probe ids with the run, so nothing can be compared", path=baseline)
    result = check_run(current, options, comparison)
    for line in summary_lines(result):
        click.echo(line)
    if junit_path is not None:
        from advisor.report.junit import write_junit

        label = run.name if run.is_dir() else run.parent.name
        click.echo(f"JUnit: {write_junit(result, junit_path, run_label=label)}")
    if not result.passed:
        raise SystemExit(1)


@cli.group()
def strategies() -> None:
    """Inspect the strategies the advisor can run."""


@strategies.command("list")
def strategies_list() -> None:
    """Name, family, what each strategy does, and its parameters."""
    from advisor.strategy.registry import describe_params, registered_strategies, strategy_class

    for name in registered_strategies():
        try:
            cls = strategy_class(name)
        except AdvisorError as error:
            click.echo(f"{name}  (unavailable: {error})")
            continue
        click.echo(f"{name}  [{cls.family}]  {cls.summary}")
        for row in describe_params(cls):
            click.echo(f"    {row['name']} ({row['type']}, default {row['default']!r}): {row['description']}")
    from advisor.composition import describe_combinations

    click.echo("")
    click.echo(textwrap.fill(describe_combinations(), width=100))


@cli.group()
def models() -> None:
    """Inspect the models the advisor can load."""


@models.command("list")
def models_list() -> None:
    """Packaged models and whether their weights are ready; any local model folder works too."""
    from advisor.backends.models import list_models

    for row in list_models():
        click.echo(f"{row['name']}  {row['status']}  {row['description']}")
    click.echo("Any folder with a transformers model (config.json + weights) also works as --model PATH.")



@cli.group()
def probes() -> None:
    """Generate a probe set from documents, import one from another tool, and look at one before a long run."""


@probes.command("generate")
@click.argument("corpus_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the probes (JSONL).")
@click.option("--teacher", default=None, help="Also ask a helper model for questions: a model name, folder, "
                                              "'fake', or an OpenAI-compatible URL [none: extraction only].")
@click.option("--teacher-model", default=None, help="Model name to request from a --teacher URL.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for splits and chunk sampling.")
@click.option("--per-document", type=click.IntRange(min=1), default=None, metavar="N",
              help="At most N probes from any one document, so one long chapter does not dominate [no cap].")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def probes_generate(corpus_dir: Path, out_path: Path, teacher, teacher_model, seed: int, per_document: int | None,
                    quiet: bool) -> None:
    """Write questions with grounded answers, found in CORPUS_DIR's documents, split by document.

    Prints, for each kind of question, how many were proposed and kept and why the others were
    rejected."""
    from advisor.probegen.generation import generate_probe_file
    from advisor.evaluation.progress import Progress

    summary = generate_probe_file(corpus_dir, out_path, teacher=teacher, teacher_model=teacher_model, seed=seed,
                                  per_document=per_document, progress=Progress(enabled=not quiet))
    click.echo(summary.describe())
    click.echo(f"Wrote {out_path}")


@probes.command("show")
@click.argument("probes_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--per-kind", type=int, default=3, show_default=True, help="Probes shown for each kind.")
def probes_show(probes_path: Path, per_kind: int) -> None:
    """Print a sample of each kind with its answer, evidence sentence, source document and split."""
    from advisor.probegen.generation import show_probe_file

    click.echo(show_probe_file(probes_path, per_kind=per_kind))

@probes.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "fmt", type=click.Choice(["ragas", "promptfoo", "deepeval", "csv"]), required=True,
              help="The tool that wrote SOURCE: ragas (JSONL/CSV/JSON), promptfoo (YAML), deepeval (JSON), "
                   "or csv (columns named question, answer, ...).")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the probes (JSONL).")
def probes_import(source: Path, fmt: str, out_path: Path) -> None:
    """Convert another tool's test set into a probe file; every line that cannot be mapped is listed
    with its file, line and reason."""
    from advisor.inputs.probe_formats import import_probe_file

    conversion = import_probe_file(source, fmt, out_path)
    for problem in conversion.problems:
        click.echo(f"not imported: {problem}")
    click.echo(f"Imported {len(conversion.probes)} probe(s) from {source}"
               + (f"; {len(conversion.problems)} not imported (listed above)" if conversion.problems else ""))
    click.echo(f"Wrote {out_path}")


@probes.command("export")
@click.argument("probes_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "fmt", type=click.Choice(["promptfoo", "ragas"]), required=True,
              help="promptfoo (YAML tests) or ragas (JSONL samples).")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the converted file.")
def probes_export(probes_path: Path, fmt: str, out_path: Path) -> None:
    """Write a probe file in another tool's format; probes it cannot express are listed."""
    from advisor.inputs.probe_formats import export_probe_file

    export = export_probe_file(probes_path, fmt, out_path)
    for reason in export.skipped:
        click.echo(f"not exported: {reason}")
    click.echo(f"Wrote {out_path}")


@cli.command()
@click.argument("corpus_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--probes", "probes_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Probe set (JSONL) whose train probes state the facts, e.g. 'Who is the parent of B?' -> A.")
@click.option("--examples", type=int, default=8, show_default=True, help="Train statements learned, one at a time.")
@click.option("--steps", type=int, default=5, show_default=True, help="LoRA steps on each statement.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write influence.json, influence.md and the plot [advisor-runs/CORPUS-influence].")
@click.option("--model", default="smollm2-135m", show_default=True, help="Packaged model name or a local model folder.")
@click.option("--dtype", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default="auto", show_default=True,
              help="Weights precision.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the statements drawn and the adapters.")
@click.option("--teacher", default=None, help="Model that writes the paraphrase probes: a model name, folder, or an "
              "OpenAI-compatible URL [templates].")
@click.option("--teacher-model", default=None, help="Model name to request from a --teacher URL.")
def influence(corpus_dir: Path, probes_path: Path, examples: int, steps: int, out_dir, model: str, dtype: str,
              seed: int, teacher: str | None, teacher_model: str | None) -> None:
    """Learn single statements by fine-tuning and in context; measure what else moved."""
    from advisor.influence.run import analyse

    out_dir = out_dir or Path("advisor-runs") / f"{corpus_dir.name}-influence"
    _, paths = analyse(corpus_dir, probes_path, examples=examples, steps=steps, seed=seed, out_dir=out_dir,
                       model=model, dtype=dtype, teacher=teacher, teacher_model=teacher_model)
    click.echo(paths["md"].read_text(encoding="utf-8"))
    for path in paths.values():
        click.echo(f"Wrote {path}")
    from advisor.report import FILES, load_run, write_reports

    if (out_dir / FILES["json"]).is_file():  # an evaluate run's folder: its reports gain the Influence section
        for path in write_reports(load_run(out_dir), out_dir, formats=("md", "html")).values():
            click.echo(f"Wrote {path}")


def _quiet_libraries() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for noisy in ("transformers", "chromadb", "httpx", "sentence_transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def main() -> None:
    _quiet_libraries()
    debug = "--debug" in sys.argv[1:]
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except AdvisorError as error:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    except Exception as error:  # a bug: one line unless asked for the traceback
        if debug:
            traceback.print_exc()
        click.echo(f"error: unexpected {type(error).__name__}: {error} (run with --debug for details)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
