import pytest

from advisor.inputs.chunking import chunk_corpus, document_of
from advisor.inputs.corpus import Corpus, Document
from advisor.errors import AdvisorError


def corpus(*texts: str) -> Corpus:
    return Corpus(name="t", documents=[Document(id=f"dir/doc{i}.md", text=t, source=f"/x/doc{i}.md")
                                       for i, t in enumerate(texts)])


def test_chunks_keep_document_id_and_position():
    long = " ".join(f"Sentence number {i} says the code is {i * 3}." for i in range(60))
    chunks = chunk_corpus(corpus(long, "Short doc."), chunk_size=200, chunk_overlap=20)
    first = [c for c in chunks if c.metadata["doc_id"] == "dir/doc0.md"]
    assert len(first) > 5
    assert [c.id for c in first] == [f"dir/doc0.md#{i}" for i in range(len(first))]
    assert all(len(c.page_content) <= 200 for c in first)
    starts = [c.metadata["start_index"] for c in first]
    assert starts == sorted(starts) and starts[0] == 0
    for c in first:  # the recorded position points at the chunk's text in the document
        assert long[c.metadata["start_index"]:].startswith(c.page_content)
    assert chunks[-1].id == "dir/doc1.md#0" and document_of(chunks[-1].id) == "dir/doc1.md"


def test_token_unit_measures_with_the_embedding_tokenizer():
    from advisor.inputs.embeddings import tokenizer

    long = " ".join(f"Item {i} ships from warehouse W{i}." for i in range(80))
    chunks = chunk_corpus(corpus(long), chunk_size=40, chunk_overlap=0, unit="tokens")
    assert len(chunks) > 3
    assert all(len(tokenizer().tokenize(c.page_content)) <= 40 for c in chunks)


def test_zero_chunks_is_a_clear_error():
    with pytest.raises(AdvisorError, match="zero chunks"):
        chunk_corpus(corpus("   \n\n  "))


def test_overlap_must_be_smaller_than_size():
    with pytest.raises(AdvisorError, match="chunk_overlap"):
        chunk_corpus(corpus("text"), chunk_size=10, chunk_overlap=10)
