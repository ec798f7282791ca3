"""Training examples: probes, documents and statements as token ids with the labels the loss reads."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.backends.base import Message
from advisor.inputs.corpus import Corpus
from advisor.storage.hashing import content_hash
from advisor.inputs.probes import Probe
from advisor.strategy.prompts import chat, question_text
from advisor.training.augmentation import sentences

IGNORE = -100  # label for tokens the loss does not count (prompt, padding)


@dataclass
class Example:
    """One training sequence: token ids and labels (IGNORE where the loss does not look)."""

    input_ids: list[int]
    labels: list[int]
    kind: str


def probe_messages(probe: Probe, system_prompt: str) -> list[Message]:
    return chat(system_prompt, question_text(probe))


def qa_examples(tokenizer, probes: list[Probe], system_prompt: str, max_length: int) -> list[Example]:
    """Question/answer pairs in the chat template the model is evaluated with; the loss counts
    only the answer and its end-of-turn token, so the model learns to reply, not to ask."""
    examples = [chat_example(tokenizer, probe_messages(probe, system_prompt), probe.answer, max_length, "qa")
                for probe in probes]
    return [e for e in examples if e is not None]


def chat_example(tokenizer, messages: list[Message], answer: str, max_length: int | None, kind: str) -> Example | None:
    """One chat prompt and its reply as a training sequence (cut at `max_length` tokens, None: uncut);
    the loss counts only the reply and its end-of-turn token. None when nothing of the reply is left."""
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": answer}], tokenize=False)
    prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
    full_ids = tokenizer.encode(full.rstrip("\n"), add_special_tokens=False)[:max_length]
    labels = [IGNORE] * min(len(prompt_ids), len(full_ids)) + full_ids[len(prompt_ids):]
    if any(label != IGNORE for label in labels):
        return Example(full_ids, labels, kind)
    return None


def text_examples(tokenizer, texts: list[str], max_length: int, kind: str) -> list[Example]:
    """Plain text for continued pre-training, packed into windows of `max_length` tokens so no
    step is spent on padding."""
    stream: list[int] = []
    for text in texts:
        stream.extend(tokenizer.encode(text.strip(), add_special_tokens=False))
        stream.append(tokenizer.eos_token_id)
    return [Example(stream[i:i + max_length], stream[i:i + max_length], kind)
            for i in range(0, len(stream), max_length) if len(stream[i:i + max_length]) > 1]


def sentence_start_examples(tokenizer, texts: list[str], max_length: int, kind: str) -> list[Example]:
    """A window at every sentence of every document, running on through the sentences after it up to
    `max_length` tokens. Packed windows always show a sentence after the same text, and a model
    that memorized them completes the sentence only after that text: on corpora/injection, 240
    steps on packed windows brought the training loss to 0.011 but recall of a fact's sentence
    asked on its own to 22%. Here each sentence is also learned as a start, the way a question
    reaches it."""
    examples = []
    for text in texts:
        parts = sentences(text, min_words=1)
        starts = [tokenizer.encode(s, add_special_tokens=False) for s in parts]
        follows = [tokenizer.encode(" " + s, add_special_tokens=False) for s in parts]
        for first in range(len(parts)):
            ids = list(starts[first])
            for later in follows[first + 1:]:
                if len(ids) >= max_length:
                    break
                ids += later
            ids = (ids + [tokenizer.eos_token_id])[:max_length]
            if len(ids) > 1:
                examples.append(Example(ids, list(ids), kind))
    return examples


DOCUMENT_REQUEST = "Tell me what you know about {title}."


def document_title(doc_id: str, text: str) -> str:
    """A document's first markdown heading, else its file name without extension."""
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return doc_id.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def document_chat_examples(tokenizer, corpus: Corpus, system_prompt: str, max_length: int) -> list[Example]:
    """Each document as the assistant's reply to a request about its title, in the chat template the
    questions are asked in; the loss counts only the document. Facts are then learned in the state
    the model answers from rather than in raw text, which the questions never look like."""
    examples = [chat_example(tokenizer, chat(system_prompt, DOCUMENT_REQUEST.format(title=document_title(d.id, d.text))),
                             d.text.strip(), max_length, "corpus")
                for d in corpus.documents]
    return [e for e in examples if e is not None]


def statement_examples(tokenizer, texts: list[str], max_length: int, kind: str) -> list[Example]:
    """Short statements packed whole into windows of at most `max_length` tokens: unlike
    `text_examples`, no statement is cut in two, so a reversal is always learned in one piece."""
    windows: list[list[int]] = [[]]
    for text in texts:
        ids = tokenizer.encode(text.strip(), add_special_tokens=False)[:max_length - 1] + [tokenizer.eos_token_id]
        if len(windows[-1]) + len(ids) > max_length:
            windows.append([])
        windows[-1].extend(ids)
    return [Example(list(w), list(w), kind) for w in windows if len(w) > 1]


def corpus_texts(corpus: Corpus) -> list[str]:
    return [f"{d.id}\n{d.text}" for d in corpus.documents]


def data_hash(examples: list[Example]) -> str:
    return content_hash([[e.input_ids, e.labels] for e in examples])
