"""The King James Bible from Debian's bible-kjv-text package (public domain), read through the
package's own `bible` reader, which decodes its compressed /usr/lib/bible.data."""
import re
import shutil
import subprocess

# Held out of training, for perplexity: two Old Testament narratives, a prophet, three epistles
# (about 41 KB); named as `bible` abbreviates them.
HELD_OUT_BOOKS = ("Ruth", "Jonah", "Joel", "Titus", "Phmn", "Jude")

_VERSE = re.compile(r"^([1-3]?[A-Za-z]+)(\d+):(\d+) (.*)$")


def read_verses():
    """[(book, chapter, text)] for all 31,102 verses, in order."""
    if shutil.which("bible") is None:
        raise SystemExit("the corpus comes from Debian's bible-kjv package: "
                         "apt-get install bible-kjv bible-kjv-text")
    # -f turns pretty-printing off: one "Book C:V text" line per verse.
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], check=True, capture_output=True,
                         stdin=subprocess.DEVNULL, text=True).stdout
    verses = []
    for line in out.splitlines():
        m = _VERSE.match(line)
        if m is None:
            raise SystemExit(f"unexpected line from bible: {line!r}")
        verses.append((m.group(1), int(m.group(2)), m.group(4).strip()))
    if len(verses) != 31102:
        raise SystemExit(f"expected 31102 verses from bible, got {len(verses)}")
    return verses


def to_text(verses):
    """One verse a line, a blank line between chapters."""
    chapters, key = [], None
    for book, chapter, text in verses:
        if (book, chapter) != key:
            chapters.append([])
            key = (book, chapter)
        chapters[-1].append(text)
    return "\n\n".join("\n".join(c) for c in chapters) + "\n"


def split(verses):
    """(training text, held-out text)."""
    train = [v for v in verses if v[0] not in HELD_OUT_BOOKS]
    held = [v for v in verses if v[0] in HELD_OUT_BOOKS]
    return to_text(train), to_text(held)
