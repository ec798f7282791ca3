"""Retrieval-augmented generation: the chunks nearest to the question go into the prompt.

Facts the base model never saw reach it at query time, at the price of longer prompts. The
index is a Chroma collection, embedded once per (corpus, chunking, embedding model): locally
it is a persistent Chroma directory published as an artifact, so a second run reuses it;
with `chroma_url` it is a collection on a Chroma server, named after the same key. After an
edit of the documents, either is derived from the previous index, embedding only the changed
documents (`strategies.rag_index`, `strategies.rag_server`).
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, model_validator

from advisor.strategy.answer_length import AnswerLengthParams
from advisor.inputs.chunking import chunk_corpus
from advisor.errors import AdvisorError
from advisor.strategy.prompts import chat, question_text
from advisor.strategy.contract import FitContext, Strategy

COLLECTION = "chunks"
DEFAULT_RAG_SYSTEM = "Answer using only the context. Reply with the short answer."
DEFAULT_RAG_TEMPLATE = "Context:\n{context}\n\nQuestion: {question}"


class RagParams(AnswerLengthParams):
    k: int = Field(4, ge=1, description="chunks put in each prompt")
    search: Literal["similarity", "mmr"] = Field("similarity", description="nearest chunks, or maximal "
                                                 "marginal relevance (nearest but not redundant)")
    fetch_k: int = Field(20, ge=1, description="candidates MMR chooses the k from")
    chunk_size: int = Field(500, ge=32, description="chunk length, in chunk_unit")
    chunk_overlap: int = Field(50, ge=0, description="overlap between neighbouring chunks, in chunk_unit")
    chunk_unit: Literal["chars", "tokens"] = Field("chars", description="chars, or embedding-model tokens")
    system_prompt: str = Field(DEFAULT_RAG_SYSTEM, description="system prompt for every question")
    template: str = Field(DEFAULT_RAG_TEMPLATE, description="user message; must contain {context} and {question}")
    chroma_url: str | None = Field(None, description="a Chroma server (http://host:port) instead of the "
                                   "local persistent index")
    embed_batch: int = Field(256, ge=1, description="chunks embedded and added per batch while indexing")

    @model_validator(mode="after")
    def _check(self) -> RagParams:
        for field in ("{context}", "{question}"):
            if field not in self.template:
                raise ValueError(f"template must contain {field}")
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


def _chroma_client(url: str):
    """An HTTP client for a running Chroma server; a server that does not answer is a clear error."""
    import chromadb

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise AdvisorError(f"chroma_url {url!r} is not a URL like http://127.0.0.1:8000")
    ssl = parsed.scheme == "https"
    try:
        client = chromadb.HttpClient(host=parsed.hostname, port=parsed.port or (443 if ssl else 8000), ssl=ssl)
        client.heartbeat()
    except Exception as error:  # connection refused, DNS, TLS, HTTP: all mean "no usable server"
        raise AdvisorError(f"cannot reach the Chroma server at {url}: {str(error).splitlines()[0][:200]}") from error
    return client


def chunk_source(doc) -> str:
    return f"{doc.metadata['doc_id']}#{doc.metadata['chunk_index']}"


def retrieved_text(docs) -> str:
    """The retrieved chunks as one context, in retrieval order."""
    return "\n\n".join(d.page_content.strip() for d in docs)


def rag_messages(params: RagParams, probe, docs) -> list[dict[str, str]]:
    """The prompt RAG sends: the system prompt, then the chunks and the question in the template."""
    context = retrieved_text(docs)
    return chat(params.system_prompt, params.template.format(context=context, question=question_text(probe)))


class RagStrategy(Strategy):
    name = "rag"
    family = "retrieval"
    summary = "Retrieve the corpus chunks nearest each question (Chroma, MiniLM) and answer from them."
    Params = RagParams

    def _key_parts(self, ctx: FitContext) -> dict[str, Any]:
        from advisor.inputs.embeddings import EMBEDDING_MODEL

        p = self.params
        return {"corpus": ctx.corpus.fingerprint(),
                "chunking": {"size": p.chunk_size, "overlap": p.chunk_overlap, "unit": p.chunk_unit},
                "embedding": EMBEDDING_MODEL}

    def fit(self, ctx: FitContext) -> RagStrategy:
        from advisor.inputs.embeddings import EMBEDDING_MODEL

        p = self.params
        chunks = chunk_corpus(ctx.corpus, chunk_size=p.chunk_size, chunk_overlap=p.chunk_overlap, unit=p.chunk_unit)
        key_parts = self._key_parts(ctx)
        if p.chroma_url:
            self.store_, reused, where = self._server_index(p.chroma_url, key_parts, chunks, ctx)
        else:
            self.store_, reused, where = self._local_index(key_parts, chunks, ctx)
        self.backend_ = ctx.backend
        self.progress_ = ctx.progress
        self.info_ = {"chunks": len(chunks), "documents": len(ctx.corpus.documents),
                      "index": "reused" if reused else "built", "index_location": where,
                      "embedding_model": EMBEDDING_MODEL, **getattr(self, "update_", {})}
        return self

    # --- building or reusing the index ---------------------------------------------------------
    def _add(self, store, chunks, ctx: FitContext) -> None:
        """Embed and add in batches, so progress shows and memory stays flat on big corpora."""
        size = self.params.embed_batch
        with ctx.progress.bar("rag: embedding chunks", total=len(chunks), unit="chunk") as bar:
            for start in range(0, len(chunks), size):
                batch = chunks[start:start + size]
                store.add_documents(batch, ids=[c.id for c in batch])
                bar.update(len(batch))

    def _local_index(self, key_parts, chunks, ctx: FitContext):
        import chromadb

        from strategies.rag_index import KIND, build_index, previous_index

        slot = ctx.artifacts.slot(KIND, **key_parts)
        reused = slot.exists()
        if reused:
            self.update_ = {"embedded_chunks": 0}
        else:
            documents = ctx.corpus.document_fingerprints()
            previous = previous_index(ctx.artifacts, key_parts, documents)
            info = {"chunks": len(chunks), "documents": documents}
            with slot.publish(info=info) as tmp:
                self.update_ = build_index(tmp, chunks, documents, previous, self._store,
                                           lambda store, batch: self._add(store, batch, ctx))
                info.update(self.update_)
        store = self._store(chromadb.PersistentClient(path=str(slot.path / "chroma")))
        return store, reused, str(slot.path)

    def _server_index(self, url, key_parts, chunks, ctx: FitContext):
        from strategies.rag_server import server_index

        client = _chroma_client(url)
        store, reused, self.update_ = server_index(client, key_parts, chunks, ctx.corpus.document_fingerprints(),
                                                   self._store, lambda store, batch: self._add(store, batch, ctx))
        return store, reused, f"{url} collection {store._collection.name}"

    @staticmethod
    def _store(client, name: str = COLLECTION):
        from langchain_chroma import Chroma

        from advisor.inputs.embeddings import embeddings

        return Chroma(client=client, collection_name=name, embedding_function=embeddings(),
                      collection_configuration={"hnsw": {"space": "cosine"}})

    # --- answering ---------------------------------------------------------------------------
    def retrieve(self, questions: list[str], k: int | None = None):
        """The k chunks for each question (`k` defaults to the param); questions are embedded in one batch."""
        from advisor.inputs.embeddings import embeddings

        self.check_fitted()
        p = self.params
        k = k or p.k
        vectors = embeddings().embed_documents(questions) if questions else []
        if p.search == "mmr":
            return [self.store_.max_marginal_relevance_search_by_vector(v, k=k, fetch_k=max(p.fetch_k, k))
                    for v in vectors]
        return [self.store_.similarity_search_by_vector(v, k=k) for v in vectors]

    def prompts(self, probes) -> tuple[list[list[dict[str, str]]], list[list[str]]]:
        """Each probe's messages (retrieved chunks in the template) and the chunk ids they hold."""
        retrieved = self.retrieve([probe.question for probe in probes])
        messages = [rag_messages(self.params, probe, docs) for probe, docs in zip(probes, retrieved)]
        return messages, [[chunk_source(d) for d in docs] for docs in retrieved]

    def answer(self, probes):
        self.check_fitted()
        messages, sources = self.prompts(probes)
        return self.answer_with_messages(self.backend_, probes, messages, self.params, sources=sources,
                                         progress=self.progress_)

    def fit_info(self) -> dict[str, Any]:
        return dict(getattr(self, "info_", {}))
