"""Split a corpus into retrievable chunks that remember where they came from.

Every chunk's id is "<document id>#<index>": the runner measures retrieval recall by comparing
the part before '#' with each probe's `source_doc`, so the format is part of the contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from advisor.inputs.corpus import Corpus
from advisor.errors import AdvisorError

if TYPE_CHECKING:
    from langchain_core.documents import Document as LCDocument

Unit = Literal["chars", "tokens"]


def chunk_id(document_id: str, index: int) -> str:
    return f"{document_id}#{index}"


def document_of(chunk: str) -> str:
    """The document id a chunk id points to."""
    return chunk.split("#", 1)[0]


def splitter(chunk_size: int, chunk_overlap: int, unit: Unit = "chars"):
    """LangChain's recursive splitter; `tokens` measures length with the embedding tokenizer."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    if chunk_overlap >= chunk_size:
        raise AdvisorError(f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_size ({chunk_size})")
    if unit == "tokens":
        from advisor.inputs.embeddings import tokenizer

        return RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
            tokenizer(), chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True)
    return RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                                          add_start_index=True)


def chunk_corpus(corpus: Corpus, *, chunk_size: int = 500, chunk_overlap: int = 50,
                 unit: Unit = "chars") -> list[LCDocument]:
    """Chunks in corpus order, each with metadata doc_id, chunk_index and start_index."""
    from langchain_core.documents import Document as LCDocument

    split = splitter(chunk_size, chunk_overlap, unit)
    chunks: list[LCDocument] = []
    for document in corpus.documents:
        pieces = split.create_documents([document.text])
        for index, piece in enumerate(p for p in pieces if p.page_content.strip()):
            chunks.append(LCDocument(
                id=chunk_id(document.id, index), page_content=piece.page_content,
                metadata={"doc_id": document.id, "chunk_index": index,
                          "start_index": piece.metadata.get("start_index", -1)}))
    if not chunks:
        raise AdvisorError(f"corpus '{corpus.name}' gives zero chunks to index: its documents hold no text")
    return chunks
