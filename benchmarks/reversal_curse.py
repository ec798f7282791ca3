"""The reversal curse on the synthetic biographies (corpora/reversal): forward and reverse
multiple-choice accuracy of strategies with chosen params, and the training loss, so that what
stops fine-tuning from learning forward facts can be found by small experiments.

Usage: python benchmarks/reversal_curse.py [--corpus corpora/reversal | --people N | --reports N] [--artifacts DIR]
       [--dtype fp32]
       RUN [RUN ...] where RUN is NAME or NAME:param=value,param=value
       e.g. baseline lora:data=corpus,max_steps=40 augmented_ft:data=corpus,max_steps=40
       lora:data=corpus,documents_as=chat,budget=until_memorized,max_steps=60,recall_every=10

Any corpus whose probes carry their fact's sentence as `evidence` can be measured this way
(`--corpus corpora/injection`: "forward" is then the fact as the report states it; that corpus
has no reverse probes; `--corpus corpora/hierarchy`: each kind by its name, a syllogism's
evidence being its conclusion). Each probe is asked two ways. As a chat question ("Whose mentor is X?"),
the way `advisor evaluate` asks it (each option scored as the reply). And in the documents' own
form, no chat, the way Berglund et al. (2023) tested: forward "X is the mentor of" -> choices, reverse "The mentor of Y is" -> choices, each
choice scored as the continuation; for a retriever, after the chunks it found for the question.
And as a plain-text question, no chat ("Question: Whose mentor is X?\nAnswer:" -> choices), the
way Ovadia et al. (2024) asked theirs.
Each trained adapter's cloze recall of the documents is printed too: a fact not memorized (low
recall, low document-form forward) needs more passes or a higher learning rate; a fact memorized
but not reached through a chat question (high document-form forward, chat forward near chance)
points at the mismatch between raw-text training and chat questions. Every run after the first
is compared with the first on the same probes: the difference, its paired 95% interval and
McNemar's exact p. `--artifacts DIR` keeps the adapters, so a second run measures them again
without training.

Measured on the corpus's first version, 24 people (`--people 24` writes it again: the same
documents as the first 24 of today's 48), 2 shared AVX2 cores, fp32, seed 0. The training runs
were planned with the same number of tokens (60 steps of 8 windows of 256 tokens, or 120 of 8 of
128); the two marked * ran side by side with a third run, one thread each, and the 30-minute safety
limit stopped them after 73 and 75 of their 120 steps. The figures come from separate invocations
of these runs, each starting with baseline (the same baseline figures every time):

    python benchmarks/reversal_curse.py --people 24 --artifacts runs baseline rag \
        lora:data=corpus,document_windows=packed,max_steps=60,gradient_checkpointing=false \
        lora:data=corpus,document_windows=packed,paraphrases_per_fact=3,max_steps=120,max_length=128,gradient_checkpointing=false \
        augmented_ft:data=corpus,max_steps=120,gradient_checkpointing=false \
        augmented_ft:data=corpus,max_steps=120,reversal_rewordings=4,gradient_checkpointing=false \
        augmented_ft:data=corpus,max_steps=120,paraphrases_per_fact=0,reversal_rewordings=8,filler=drop,\
global_links_per_doc=0,gradient_checkpointing=false

| run | chat forward | chat reverse | forward, document form | reverse, document form | recall |
|---|---|---|---|---|---|
| baseline | 9/24 | 6/24 | 8/24 (CI 17-54%) | 6/24 (CI 8-42%) | 0% |
| rag (document form after the retrieved chunks) | 22/24 | 23/24 | 24/24 | 23/24 | - |
| lora on the documents (FT-reg) | 12/24 | 6/24 | 15/24 (CI 42-83%) | 6/24 | 25% |
| lora, 3 paraphrases per fact (FT-par), 73 steps* | (8/24) | (4/24) | 22/24 (CI 79-100%) | 8/24 (CI 17-54%) | 66% |
| augmented_ft, default mix | (4/24) | (4/24) | 24/24 | 9/24 (CI 21-58%) | 100% |
| augmented_ft, 4 rewordings per reversal, 75 steps* | (6/24) | (5/24) | 23/24 (CI 88-100%) | 8/24 (CI 17-54%) | 72% |
| augmented_ft, 8 rewordings per reversal, no paraphrases, filler or links | 11/24 | 8/24 | 24/24 | 14/24 (CI 38-79%) | 81% |

Against the baseline, on the same probes (paired 95% interval, McNemar's exact p): rag +67 and
+71 points in document form (p<0.001 both); lora forward +29 (+4 to +54, p=0.065), reverse +0;
FT-par forward +58 (+33 to +83, p=0.001), reverse +8 (-12 to +29, p=0.73); augmented_ft with
the default mix forward +67 (+46 to +83, p<0.001), reverse +12 (-17 to +38, p=0.55); with 4
rewordings per reversal forward +62 (+38 to +83, p<0.001), reverse +8 (-21 to +33, p=0.77); with 8 rewordings per reversal and nothing else
added forward +67 (+46 to +83, p<0.001), reverse +33 (+4 to +58, p=0.057).
Against plain lora (a run with lora first and the kept adapters): that augmented_ft's reverse +33
(+4 to +62, p=0.077), FT-par's +8 (-12 to +29, p=0.73).

On the corpus as shipped, 48 people (`--dtype bf16`, a CPU with native bf16), document form: baseline
13/48 forward, 11/48 reverse; rag 48/48 and 46/48; lora on the documents with a window starting at
every sentence (`document_windows=sentence_starts`, the default; `budget=until_memorized,
max_steps=240,recall_every=40`, reached at step 120, recall 0%, 9%, 97% at steps 40, 80, 120)
48/48 (+73 points, paired 95% CI +60 to +85, p<0.001) and 9/48 (-4, CI -19 to +12, p=0.80);
augmented_ft with 8 rewordings per reversal and nothing else added, 120 steps, 43/48 and 25/48
(reverse +33 over that lora, CI +15 to +50, p=0.002). With packed windows (all the runs above):
lora on the documents 60 steps 22/48 and 14/48, 120 steps
(`budget=until_memorized,max_steps=120,recall_every=20`, not reached) 35/48 (+46 points, paired
95% CI +27 to +62, p<0.001) and 15/48 (+8, p=0.52); augmented_ft's reverse +23 over the
60-step run (CI +4 to +40, p=0.027) and +21 over the 120-step one (CI +2 to +38, p=0.052).
Commands in corpora/reversal/README.md.

What it shows, in the paper's own test form: retrieval reads the statement in either direction;
fine-tuning learns the direction it was trained on (forward up, reverse at the baseline), and
only as far as it memorized (plain documents: recall 25%, +29 points; with paraphrases of each
fact, recall 66-100% and +58 to +67 points). Training on reversed statements moves
the reverse direction once they are a large enough share of what is trained: the default mix makes
24 reversals beside 360 forward paraphrases (2.7% of the training tokens) and left the reverse at
9/24; 4 rewordings of each reversal (16.5% of the tokens, cut at 75 steps) gave 8/24, the same as
FT-par without any reversal; 8 rewordings with the paraphrases, filler and links left out
(reversals 66% of the training tokens by type, 120 steps) gave 14/24, +33 points over the baseline. The
forward fact is memorized either way (23-24/24).

Asked as chat questions, each option scored as the reply to the question alone (the cloze form
`advisor evaluate` uses; figures in brackets were measured when the options were still listed
under the question, where no strategy was above the baseline, rag included at 5/24 and 10/24):
rag answers 22/24 forward and 23/24 reverse (+54 and +71 points, p=0.001 and p<0.001). The
adapters stay near the baseline: plain lora 12/24 forward (+12, paired CI -12 to +38, p=0.55)
and 6/24 reverse; augmented_ft with 8 rewordings per reversal 11/24 and 8/24, although the same
adapter completes 24 of 24 forward statements in the documents' form. What fine-tuning memorized
as text is not reached through a question in another form (Allen-Zhu & Li's point for knowledge
stored without varied restatements); retrieval puts the text where the question can read it.

Earlier runs, on parts of the corpus:

Measured on 2 shared AVX2 cores, fp32, seed 0, `--people 16` (the first 16 biographies):

    python benchmarks/reversal_curse.py --people 16 baseline \
        lora:data=corpus,document_windows=packed,budget=until_memorized,max_steps=60,recall_every=10

| run | chat forward | chat reverse | forward in document form | document recall | steps |
|---|---|---|---|---|---|
| baseline | 3/16 (19%, CI 0-38%) | 4/16 (25%, CI 6-44%) | 1/16 | 0% | - |
| lora, documents as text, until_memorized | 4/16 (25%, CI 6-50%) | 3/16 (19%, CI 0-38%) | 11/16 | 25% | 51 (loss 2.70 -> 0.023) |

The adapter learned the facts in the form it was trained on: asked as the documents phrase them,
it picks the right person 11 times in 16 (baseline 1), and its cloze recall rose from 0% to
19-28% between steps 30 and 50. Asked as a chat question, it is no better than the baseline
(4/16 against 3/16). So what stops plain LoRA on these documents is not memorization but reaching
the memorized fact through a question in another form, the gap Allen-Zhu & Li describe for
knowledge stored without varied restatements. The run stopped at step 51 of 60 on the 30-minute
safety limit (1,817 s on a loaded machine), before recall reached the 0.9 target. Next to
measure, each against the same baseline: `documents_as=chat` (documents as chat replies),
`paraphrases_per_fact` > 0, and augmented_ft's question-form inferences.

Mixed training (Allen-Zhu & Li 2023): `--mixed` moves every second person's forward question to
the train split, so `lora:data=both` trains on those question/answer pairs and on all documents,
and only the other people's forward questions are scored. First measurement, on 12 people (6
held out) because the shared machine gave about 45 s per step at batch 4; too small to separate
anything from chance:

    python benchmarks/reversal_curse.py --people 12 --mixed \
        lora:data=both,document_windows=packed,max_steps=24,batch_size=4,learning_rate=0.003 baseline

| run | held-out chat forward | chat reverse | forward in document form | document recall | steps |
|---|---|---|---|---|---|
| baseline | 3/6 (50%, CI 17-83%) | 3/12 | 2/6 | 0% | - |
| lora, data=both, batch 4, lr 3e-3 | 1/6 (17%, CI 0-50%) | 4/12 | 3/6 | 12% | 24 (loss 2.14 -> 0.12) |

24 steps are about 8 passes over the 12 documents and 6 pairs: the documents were not memorized
(recall 12%, document-form forward 3/6), so this run does not test the hypothesis, which needs
the documents memorized first: with 8 passes the pairs did not lift held-out answers. The same run with
`data=corpus` was stopped unfinished at step 14 of 24 (loss 0.215) when steps slowed to 265 s.
Then on 24 people (12 held out), trained for 60 steps with a recall check every 10 (activations
kept, 22 s a step on a quiet machine, 1,315 s in all):

    python benchmarks/reversal_curse.py --people 24 --mixed baseline \
        lora:data=both,document_windows=packed,budget=until_memorized,max_steps=60,recall_every=10,gradient_checkpointing=false

| run | held-out chat forward | chat reverse | forward in document form | document recall | steps |
|---|---|---|---|---|---|
| baseline | 2/12 (17%, CI 0-42%) | 7/24 | 3/12 | 0% | - |
| lora, data=both | 2/12 (17%, CI 0-42%) | 6/24 | 5/12 | 16% | 60 (loss 2.69 -> 0.14) |

Still not memorized: 60 steps left document recall at 16%, far from the 0.9 the budget aims for,
so the held-out forward question (no better than the baseline) does not yet test whether mixed
training lets the memorized facts be reached. Next: the same with more steps or a higher learning
rate until recall passes 0.9 (several hundred steps at this speed, over an hour), then against
`data=corpus` with the same steps.

With sentence-start windows, on all 48 people (24 held out), bf16, each run until memorized
(`budget=until_memorized,max_steps=240,recall_every=40`): held-out chat forward baseline 8/24,
`data=corpus` 9/24 (120 steps, recall 97%), `data=both` 15/24 (160 steps, recall 100%); both
complete 24/24 held-out facts in the documents' form. `data=both` against `data=corpus`: +25
points (paired 95% CI +8 to +42, McNemar p=0.031); against the baseline +29 (CI +0 to +54,
p=0.092). Commands in corpora/reversal/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's advisor and strategies, not an installed copy


def parse_run(text: str) -> tuple[str, dict]:
    name, _, rest = text.partition(":")
    params = {}
    for pair in filter(None, rest.split(",")):
        key, _, value = pair.partition("=")
        params[key] = json.loads(value) if value[:1] in "0123456789-[{tfn\"" else value
    return name, params


def small_corpus(people: int, mixed: bool = False) -> str:
    """corpora/reversal's generator with N people, written to a temporary folder; `mixed`: every
    second person's forward probe in the train split."""
    from advisor.synthetic.__main__ import write_corpus
    from advisor.synthetic.biographies import mixed_split, reversal_corpus

    folder = Path(tempfile.mkdtemp(prefix="reversal-"))
    docs, probes = reversal_corpus(people=people)
    write_corpus(folder, docs, mixed_split(probes) if mixed else probes)
    return str(folder)


def report_corpus(reports: int) -> str:
    """corpora/injection's generator with N reports (three questions each), written to a
    temporary folder: more questions than the sample's 48 where a small gain must be told from
    chance."""
    from advisor.synthetic.__main__ import write_corpus
    from advisor.synthetic.reports import injection_corpus

    folder = Path(tempfile.mkdtemp(prefix="injection-"))
    write_corpus(folder, *injection_corpus(count=reports))
    return str(folder)


def mixed_copy(corpus: str) -> str:
    """A copy of a corpus whose every second document's fact probes are in the train split (the
    split `--mixed` makes of generated biographies), written to a temporary folder."""
    import shutil

    from advisor.inputs.probes import read_probes, write_probes
    from advisor.synthetic.biographies import mixed_split

    folder = Path(tempfile.mkdtemp(prefix="mixed-"))
    shutil.copytree(Path(corpus) / "docs", folder / "docs")
    write_probes(folder / "probes.jsonl", mixed_split(read_probes(Path(corpus) / "probes.jsonl").probes))
    return str(folder)


def document_form_prompt(probe) -> str:
    """The probe's fact as the documents would state it, cut before the answer: "X is the mentor
    of" for a forward probe; for a reverse one, the reversed statement ("The mentor of Y is"),
    the prompt form of Berglund et al.'s reverse test; for any other kind, its evidence as given
    ("Every moulfis eats", a conclusion on corpora/hierarchy)."""
    from advisor.training.augmentation import reverse_sentence

    statement = reverse_sentence(probe.evidence) if probe.kind == "reversal" else probe.evidence
    return statement[:statement.rindex(probe.answer)].rstrip()


def picked_right(model, tokenizer, probes, prompts: list[str]) -> list[bool]:
    """Whether each probe's answer has the highest summed log-probability of its choices as the
    continuation of its prompt (the influence analysis' scorer), no chat template."""
    from advisor.influence.measurement import model_scorer

    score = model_scorer(model, tokenizer)
    correct = []
    for probe, prompt in zip(probes, prompts):
        scores = score([(prompt, " " + choice) for choice in probe.choices])
        correct.append(probe.choices[max(range(len(scores)), key=scores.__getitem__)] == probe.answer)
    return correct


def with_contexts(prompts: list[str], contexts: list[str] | None) -> list[str]:
    return prompts if contexts is None else [c + "\n\n" + p for c, p in zip(contexts, prompts)]


def document_form(model, tokenizer, probes, contexts: list[str] | None = None) -> list[bool]:
    """Probes asked in the documents' own form, each choice scored as the continuation of
    `document_form_prompt`. Tells a fact that was not learned from one that was learned but is not
    reached through a chat question, in either direction. `contexts`: text put before each prompt
    (the chunks a retriever found for the probe's question), as Berglund et al.'s in-context test
    puts the statement before it."""
    return picked_right(model, tokenizer, probes, with_contexts([document_form_prompt(p) for p in probes], contexts))


def plain_question(model, tokenizer, probes, contexts: list[str] | None = None) -> list[bool]:
    """Probes asked as a plain-text question, no chat template ("Question: ...\nAnswer:"), each
    choice scored as the continuation: the form Ovadia et al. (2024) asked their multiple-choice
    questions in (an evaluation harness over base models). A model fine-tuned on raw text is asked
    in the mode it was trained in, but with a question rather than the documents' own sentence.
    `contexts` as in `document_form`."""
    prompts = [f"Question: {p.question}\nAnswer:" for p in probes]
    return picked_right(model, tokenizer, probes, with_contexts(prompts, contexts))


def paired_line(label: str, reference: list[bool], correct: list[bool]) -> str:
    """A run against the first one on the same probes: the difference in points, its paired 95%
    interval, and McNemar's exact p."""
    from advisor.analysis.statistics import mcnemar_exact, paired_bootstrap_diff_ci

    low, high = paired_bootstrap_diff_ci(correct, reference)
    _, _, p = mcnemar_exact(correct, reference)
    gain = (sum(correct) - sum(reference)) / len(correct)
    return f"{label} {gain:+.0%} (paired 95% CI {low:+.0%} to {high:+.0%}, McNemar p={p:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--corpus", default=str(ROOT / "corpora" / "reversal"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--people", type=int, default=None, help="generate a biography corpus of N "
                        "people (same generator and seed as corpora/reversal) instead of reading --corpus")
    parser.add_argument("--reports", type=int, default=None, help="generate a news-report corpus of N "
                        "reports (same generator and seed as corpora/injection) instead of reading --corpus")
    parser.add_argument("--artifacts", default=None, help="keep trained adapters in this folder, so a second "
                        "run with the same params measures them again without training (default: a "
                        "temporary folder, removed at the end)")
    parser.add_argument("--dtype", default="fp32", help="precision of answering and training (default fp32, "
                        "the figures below; bf16 on a CPU with native bf16 is about twice as fast)")
    parser.add_argument("--mixed", action="store_true", help="every second person's (or document's) forward "
                        "question in the train split (mixed training); only the others are scored")
    args = parser.parse_args()
    if args.people:
        args.corpus = small_corpus(args.people, args.mixed)
    elif args.reports:
        args.corpus = report_corpus(args.reports)
    if args.mixed and not args.people:
        args.corpus = mixed_copy(args.corpus)

    from advisor.analysis.statistics import bootstrap_ci
    from advisor.storage.artifacts import ArtifactStore
    from advisor.backends.factory import make_backend
    from advisor.evaluation.progress import Progress
    from advisor.inputs.corpus import load_corpus
    from advisor.inputs.probes import read_probes
    from advisor.training.recall_check import cloze_items, recall
    from advisor.strategy.contract import FitContext
    from advisor.strategy.registry import make_strategy
    from strategies.rag import retrieved_text

    backend = make_backend("hf", "smollm2-135m", dtype=args.dtype, batch_size=16)
    corpus = load_corpus(args.corpus)
    probes = read_probes(Path(args.corpus) / "probes.jsonl")
    test = probes.split("test")
    # The biographies' kinds read as directions; any other corpus's kinds by their own names.
    kinds = [(kind, {"fact": "forward", "reversal": "reverse"}.get(kind, kind))
             for kind in dict.fromkeys(p.kind for p in test)]
    recall_items = cloze_items(corpus)  # document sentences that end in a name or number
    first: dict[str, list[bool]] = {}  # the first run's per-probe results, the reference for the others
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.artifacts or scratch
        for run in args.runs:
            name, params = parse_run(run)
            strategy = make_strategy(name, params)
            ctx = FitContext(backend=backend, corpus=corpus, train_probes=probes.split("train"),
                             dev_probes=probes.split("dev"), artifacts=ArtifactStore(Path(tmp)), seed=args.seed,
                             progress=Progress())
            start = time.perf_counter()
            strategy.fit(ctx)
            fit_s = time.perf_counter() - start
            answers = strategy.answer(test)
            info = strategy.fit_info() if hasattr(strategy, "fit_info") else {}
            line = [f"{run}:"]
            results: dict[str, list[bool]] = {}
            for kind, label in kinds:
                correct = [a.text == p.answer for p, a in zip(test, answers) if p.kind == kind]
                if not correct:
                    continue
                results[label] = correct
                low, high = bootstrap_ci(correct)
                line.append(f"{label} {sum(correct)}/{len(correct)} ({sum(correct) / len(correct):.0%}, "
                            f"95% CI {low:.0%}-{high:.0%})")
            picked = Counter(a.text for a in answers)
            line.append(f"fit {fit_s:.0f} s")
            hf = strategy.backend_.unwrap() if getattr(strategy, "adapter_path_", None) else backend.unwrap()
            retrieves = hasattr(strategy, "retrieve")
            own_weights = bool(getattr(strategy, "adapter_path_", None)) or name == "baseline"
            if own_weights and recall_items:
                line.append(f"document recall {recall(hf.model, hf.tokenizer, recall_items):.0%}")
            if own_weights or retrieves:
                for kind, label in kinds:
                    stated = [p for p in test if p.kind == kind and p.evidence and p.answer in p.evidence]
                    if not stated:
                        continue
                    contexts = None
                    if retrieves:  # the same question in the documents' form, after the chunks found for it
                        contexts = [retrieved_text(docs) for docs in strategy.retrieve([p.question for p in stated])]
                    where = ", after the retrieved chunks" if retrieves else ""
                    for form, measure in (("in document form", document_form), ("as a plain question", plain_question)):
                        correct = measure(hf.model, hf.tokenizer, stated, contexts)
                        results[f"{label} {form}"] = correct
                        low, high = bootstrap_ci(correct)
                        line.append(f"{label} {form}{where} {sum(correct)}/{len(correct)} "
                                    f"(95% CI {low:.0%}-{high:.0%})")
            if "steps" in info:
                cut = ", stopped by the time limit" if info.get("stopped_by_time_limit") else ""
                line.append(f"steps {info['steps']} of {info.get('planned_steps')}{cut}, "
                            f"loss {info['train_loss_first']} -> {info['train_loss_last']}")
            line.append(f"most picked choice x{picked.most_common(1)[0][1]}")
            print("; ".join(line), flush=True)
            if first:
                print(f"    against {args.runs[0]}, same probes: " + "; ".join(
                    paired_line(label, first[label], correct)
                    for label, correct in results.items() if label in first), flush=True)
            else:
                first = results
            for key in ("recall_checks", "train_token_share_by_type", "augmented_by_type"):
                if key in info:
                    print(f"    {key}: {info[key]}", flush=True)


if __name__ == "__main__":
    main()
