"""Reading and writing embeddings, bilingual dictionaries and fitted mappings.

Every reader here validates its input line by line and reports problems as an
:class:`EmbeddingFormatError` naming the file and the 1-based line number, reads its
file front to back with bounded lines and bounded allocations (FIFOs, process
substitutions and gzip work; ``/dev/zero`` fails at once), and shares one definition of
a word (:mod:`sklearn_l1align.io._words`: anything but ASCII whitespace). Every writer
is atomic: it writes a temporary file in the destination folder and moves it into place
with :func:`os.replace` only once everything has been written, so a failure never leaves
a half-written file behind nor damages a file that was already there; and it writes
regular files only.

Modules
-------
``_atomic``
    The one commit: atomic files, output-path checks, staged sets of outputs.
``_streams``, ``_words``
    Opening inputs as bounded streams; what a word is.
``_word2vec``
    word2vec text and binary files, fastText models.
``_muse``
    MUSE dictionaries, and word pairs to row indices.
``_mapping``
    Pickle-free ``.npz`` mappings, with bounded loading.
"""

from ._atomic import atomic_save_npz, atomic_write, check_output_path, is_binary_name
from ._mapping import (
    MAX_MAPPING_DIM,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    load_mapping,
    save_mapping,
)
from ._muse import DictionaryCoverage, dictionary_to_indices, read_dictionary
from ._streams import MAX_LINE_BYTES, EmbeddingFormatError
from ._word2vec import MAX_DIM, MAX_VALUE_BYTES, MAX_WORD_BYTES, read_word2vec, write_word2vec
from ._words import is_word

__all__ = [
    "DictionaryCoverage",
    "EmbeddingFormatError",
    "MAX_DIM",
    "MAX_LINE_BYTES",
    "MAX_MAPPING_DIM",
    "MAX_METADATA_BYTES",
    "MAX_METADATA_DEPTH",
    "MAX_VALUE_BYTES",
    "MAX_WORD_BYTES",
    "atomic_save_npz",
    "atomic_write",
    "check_output_path",
    "dictionary_to_indices",
    "is_binary_name",
    "is_word",
    "load_mapping",
    "read_dictionary",
    "read_word2vec",
    "save_mapping",
    "write_word2vec",
]
