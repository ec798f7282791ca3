"""The reversal curse on the synthetic biographies (corpora/reversal): forward and reverse
multiple-choice accuracy of strategies with chosen params, and the training loss, so that what
stops fine-tuning from learning forward facts can be found by small experiments.

Usage: python benchmarks/reversal_curse.py [--corpus corpora/reversal | --people N]
       RUN [RUN ...] where RUN is NAME or NAME:param=value,param=value
       e.g. baseline lora:data=corpus,max_steps=40 augmented_ft:data=corpus,max_steps=40
       lora:data=corpus,documents_as=chat,budget=until_memorized,max_steps=60,recall_every=10

Each trained adapter and the baseline are also asked the forward questions in the documents' own
form ("X is the mentor of" -> choices, no chat; "forward in document form"), beside the chat
questions, and the documents' cloze recall is printed: a fact not memorized (low recall, low
document-form forward) needs more passes or a higher learning rate; a fact memorized but not
reached through a chat question (high document-form forward, chat forward near chance) points at
the mismatch between raw-text training and chat questions, which `documents_as=chat` (each
document as the assistant's reply, in the chat template) is there to test.

Measured on 2 shared AVX2 cores, fp32, seed 0, `--people 16` (the first 16 biographies):

    python benchmarks/reversal_curse.py --people 16 baseline \
        lora:data=corpus,budget=until_memorized,max_steps=60,recall_every=10

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
        lora:data=both,max_steps=24,batch_size=4,learning_rate=0.003 baseline

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
        lora:data=both,budget=until_memorized,max_steps=60,recall_every=10,gradient_checkpointing=false

| run | held-out chat forward | chat reverse | forward in document form | document recall | steps |
|---|---|---|---|---|---|
| baseline | 2/12 (17%, CI 0-42%) | 7/24 | 3/12 | 0% | - |
| lora, data=both | 2/12 (17%, CI 0-42%) | 6/24 | 5/12 | 16% | 60 (loss 2.69 -> 0.14) |

Still not memorized: 60 steps left document recall at 16%, far from the 0.9 the budget aims for,
so the held-out forward question (no better than the baseline) does not yet test whether mixed
training lets the memorized facts be reached. Next: the same with more steps or a higher learning
rate until recall passes 0.9 (several hundred steps at this speed, over an hour), then against
`data=corpus` with the same steps.
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


def document_form_forward(model, tokenizer, probes) -> list[bool]:
    """Forward probes asked in the documents' own form, no chat: the evidence sentence cut before
    the answer ("X is the mentor of"), each choice scored as its continuation. Tells a fact that
    was not learned from one that was learned but is not reached through a chat question."""
    import torch

    correct = []
    for probe in probes:
        prompt_ids = tokenizer.encode(probe.evidence[:probe.evidence.rindex(probe.answer)].rstrip(),
                                      add_special_tokens=False)
        scores = []
        for choice in probe.choices:
            ids = tokenizer.encode(" " + choice, add_special_tokens=False)
            with torch.inference_mode():
                logits = model(input_ids=torch.tensor([prompt_ids + ids])).logits[0].float()
            logprobs = torch.log_softmax(logits, dim=-1)
            scores.append(sum(float(logprobs[len(prompt_ids) + i - 1, t]) for i, t in enumerate(ids)))
        correct.append(probe.choices[max(range(len(scores)), key=scores.__getitem__)] == probe.answer)
    return correct


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--corpus", default=str(ROOT / "corpora" / "reversal"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--people", type=int, default=None, help="generate a smaller biography corpus of N "
                        "people (same generator and seed as corpora/reversal) instead of reading --corpus")
    parser.add_argument("--mixed", action="store_true", help="with --people: every second person's forward "
                        "question in the train split (mixed training); only the others are scored")
    args = parser.parse_args()
    if args.people:
        args.corpus = small_corpus(args.people, args.mixed)

    from advisor.analysis.statistics import bootstrap_ci
    from advisor.storage.artifacts import ArtifactStore
    from advisor.backends.factory import make_backend
    from advisor.evaluation.progress import Progress
    from advisor.inputs.corpus import load_corpus
    from advisor.inputs.probes import read_probes
    from advisor.training.recall_check import cloze_items, recall
    from advisor.strategy.contract import FitContext
    from advisor.strategy.registry import make_strategy

    backend = make_backend("hf", "smollm2-135m", dtype="fp32", batch_size=16)
    corpus = load_corpus(args.corpus)
    probes = read_probes(Path(args.corpus) / "probes.jsonl")
    test = probes.split("test")
    with tempfile.TemporaryDirectory() as tmp:
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
            for kind, label in (("fact", "forward"), ("reversal", "reverse")):
                correct = [a.text == p.answer for p, a in zip(test, answers) if p.kind == kind]
                low, high = bootstrap_ci(correct)
                line.append(f"{label} {sum(correct)}/{len(correct)} ({sum(correct) / len(correct):.0%}, "
                            f"95% CI {low:.0%}-{high:.0%})")
            picked = Counter(a.text for a in answers)
            line.append(f"fit {fit_s:.0f} s")
            hf = strategy.backend_.unwrap() if getattr(strategy, "adapter_path_", None) else backend.unwrap()
            if getattr(strategy, "adapter_path_", None) or name == "baseline":
                line.append(f"document recall {recall(hf.model, hf.tokenizer, cloze_items(corpus)):.0%}")
                plain = document_form_forward(hf.model, hf.tokenizer, [p for p in test if p.kind == "fact"])
                line.append(f"forward in document form {sum(plain)}/{len(plain)}")
            if "steps" in info:
                line.append(f"steps {info['steps']}, loss {info['train_loss_first']} -> {info['train_loss_last']}")
            line.append(f"most picked choice x{picked.most_common(1)[0][1]}")
            print("; ".join(line), flush=True)
            for key in ("stopped_by", "recall_checks", "train_token_share_by_type", "augmented_by_type"):
                if key in info:
                    print(f"    {key}: {info[key]}", flush=True)


if __name__ == "__main__":
    main()
