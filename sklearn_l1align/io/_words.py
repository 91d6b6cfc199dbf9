"""What a word is, in every file this package reads or writes.

One definition, shared by the word2vec reader and writer and the dictionary reader:

- The files separate fields with **ASCII whitespace only**: space, tab, and the other
  characters C's ``isspace`` knows (``\\n \\r \\v \\f``), which is also what NumPy's
  number parser skips. A run of them is one separator; a tab is a separator like a space.
- A **word** is a non-empty string holding none of those six characters. Any other
  character is part of the word, Unicode whitespace included: real fastText ``.vec``
  files hold words with a no-break space (U+00A0), a thin space (U+2009), an
  ideographic space (U+3000) or a next-line character (U+0085), and such words are read,
  written back and matched in dictionaries unchanged.
- A row is split into its word and the rest at the first separator; a dictionary line
  into its columns at every run of separators. Lines end at ``\\n``; a ``\\r`` before it
  (Windows line ends) is dropped.
"""

from __future__ import annotations

import re

__all__ = ["ASCII_WHITESPACE", "check_word", "is_word", "split_fields", "strip_line"]

#: The field separators of the text formats: C's ``isspace`` set.
ASCII_WHITESPACE = " \t\n\r\v\f"
_ASCII_WHITESPACE_BYTES = ASCII_WHITESPACE.encode("ascii")
_SEPARATOR = re.compile(f"[{re.escape(ASCII_WHITESPACE)}]")
_SEPARATORS = re.compile(f"[{re.escape(ASCII_WHITESPACE)}]+")


def is_word(word: object) -> bool:
    """Whether ``word`` can be a word of the package's file formats.

    A word is a non-empty string without ASCII whitespace (space, tab, newline,
    carriage return, vertical tab, form feed) that UTF-8 can encode. Unicode
    whitespace, such as a no-break space, is part of a word.

    Parameters
    ----------
    word : object
        The candidate.

    Returns
    -------
    valid : bool
        True when ``write_word2vec`` can write it and the readers read it back.

    See Also
    --------
    write_word2vec : Refuses a word that is not one.
    read_dictionary : Splits its lines the same way.

    Examples
    --------
    >>> from sklearn_l1align.io import is_word
    >>> is_word("chat\u00a0noir"), is_word("chat noir"), is_word("")
    (True, False, False)
    """
    if not isinstance(word, str) or not word or _SEPARATOR.search(word):
        return False
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def check_word(word, where):
    """Raise ValueError unless ``word`` is a word; ``where`` says which one it was."""
    if not is_word(word):
        raise ValueError(
            "Each word must be a non-empty string without ASCII whitespace (space, tab, "
            "newline, carriage return, vertical tab, form feed) that UTF-8 can encode. "
            f"Got {word!r} {where} instead."
        )
    return word


def strip_line(line):
    """``line`` without the ASCII whitespace at its ends (bytes or str)."""
    if isinstance(line, bytes):
        return line.strip(_ASCII_WHITESPACE_BYTES)
    return line.strip(ASCII_WHITESPACE)


def split_fields(line):
    """The fields of ``line``, split at runs of ASCII whitespace (bytes or str).

    Unlike :meth:`str.split`, Unicode whitespace stays inside the fields.
    """
    if isinstance(line, bytes):
        return line.split()  # bytes.split splits on ASCII whitespace only
    line = line.strip(ASCII_WHITESPACE)
    return _SEPARATORS.split(line) if line else []
