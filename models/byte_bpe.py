"""Byte-level BPE in the style of GPT-2: training, encoding, decoding, and the Hugging Face
tokenizer.json that describes it (the `tokenizers` package is not available here).

Text is split with an equivalent of GPT-2's pattern, each piece's UTF-8 bytes are mapped to
printable characters (GPT-2's bytes_to_unicode), and merges join adjacent symbols in rank order.
"""
import heapq
import json
import re
from collections import Counter, defaultdict

# GPT-2's pattern uses \p{L} and \p{N}, which Python's `re` lacks: [^\W\d_] (word characters that
# are neither digits nor '_') stands in for letters and \d for numbers. Both agree on ASCII; only
# some non-ASCII letters and numbers (e.g. letter-like marks, roman numerals) would split
# differently, and the corpus here is ASCII.
SPLIT_PATTERN = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's table: every byte gets a printable character, so tokens are readable strings."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pre_tokenize(text):
    """The pieces BPE runs on, each as its byte-mapped string."""
    return ["".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))
            for piece in SPLIT_PATTERN.findall(text)]


def train(text, vocab_size, special_tokens):
    """Learns merges on `text` until the vocabulary (256 bytes + merges + special tokens) holds
    `vocab_size` entries. Ties between equally frequent pairs go to the smaller pair of strings, so
    training is deterministic. Returns (vocab: token -> id, merges: [(a, b)])."""
    words = Counter(pre_tokenize(text))
    symbols = [list(w) for w in words]  # each distinct piece as its current symbols
    counts = list(words.values())
    pair_count = Counter()
    pair_words = defaultdict(set)  # pair -> indices of words that hold it (may be stale)
    for i, syms in enumerate(symbols):
        for pair in zip(syms, syms[1:]):
            pair_count[pair] += counts[i]
            pair_words[pair].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)

    vocab = {BYTE_TO_CHAR[b]: b for b in range(256)}
    merges = []
    n_merges = vocab_size - 256 - len(special_tokens)
    while len(merges) < n_merges and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg or -neg <= 0:
            continue  # stale heap entry: the live count was pushed again when it changed
        merged = pair[0] + pair[1]
        merges.append(pair)
        vocab[merged] = len(vocab)
        changed = set()
        for i in pair_words.pop(pair):
            syms = symbols[i]
            if len(syms) < 2:
                continue
            c = counts[i]
            for p in zip(syms, syms[1:]):
                pair_count[p] -= c
                changed.add(p)
            out, j = [], 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == pair[0] and syms[j + 1] == pair[1]:
                    out.append(merged)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            symbols[i] = out
            for p in zip(out, out[1:]):
                pair_count[p] += c
                pair_words[p].add(i)
                changed.add(p)
        pair_count.pop(pair, None)
        for p in changed:
            if p == pair:
                continue
            if pair_count[p] > 0:
                heapq.heappush(heap, (-pair_count[p], p))
            else:
                del pair_count[p]
    for tok in special_tokens:
        vocab[tok] = len(vocab)
    return vocab, merges


class Tokenizer:
    """Encodes and decodes with a trained vocabulary and merge list; `bos` is prepended by
    encode(add_bos=True), as the tokenizer.json post-processor does."""

    def __init__(self, vocab, merges, bos, eos):
        self.vocab = vocab
        self.merges = [tuple(m) for m in merges]
        self.ranks = {m: r for r, m in enumerate(self.merges)}
        self.id_to_token = {i: t for t, i in vocab.items()}
        self.bos, self.eos = bos, eos
        self.special = {bos, eos}
        self._cache = {}

    def _bpe(self, piece):
        if piece in self._cache:
            return self._cache[piece]
        syms = list(piece)
        while len(syms) > 1:
            ranked = [(self.ranks.get(p, 1 << 30), k) for k, p in enumerate(zip(syms, syms[1:]))]
            rank, k = min(ranked)
            if rank == 1 << 30:
                break
            a, b = syms[k], syms[k + 1]
            out, j = [], 0
            while j < len(syms):  # merge every occurrence of the best pair, left to right
                if j + 1 < len(syms) and syms[j] == a and syms[j + 1] == b:
                    out.append(a + b)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            syms = out
        ids = [self.vocab[s] for s in syms]
        self._cache[piece] = ids
        return ids

    def encode(self, text, add_bos=True):
        ids = [self.vocab[self.bos]] if add_bos else []
        for piece in pre_tokenize(text):
            ids.extend(self._bpe(piece))
        return ids

    def decode(self, ids, skip_special=True):
        out = bytearray()
        for i in ids:
            tok = self.id_to_token[int(i)]
            if tok in self.special:
                if not skip_special:
                    out.extend(tok.encode("utf-8"))
                continue
            out.extend(CHAR_TO_BYTE[c] for c in tok)
        return out.decode("utf-8", errors="replace")

    def to_hf_json(self):
        """tokenizer.json as the Hugging Face `tokenizers` library writes a GPT-2-style BPE with a
        BOS-prepending template."""
        added = [{"id": self.vocab[t], "content": t, "single_word": False, "lstrip": False,
                  "rstrip": False, "normalized": False, "special": True}
                 for t in sorted(self.special, key=lambda t: self.vocab[t])]
        bos_id = self.vocab[self.bos]
        bos_entry = {"SpecialToken": {"id": self.bos, "type_id": 0}}
        byte_level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", **byte_level},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [bos_entry, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [bos_entry, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": self.bos, "type_id": 1}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {self.bos: {"id": self.bos, "ids": [bos_id],
                                              "tokens": [self.bos]}},
            },
            "decoder": {"type": "ByteLevel", **byte_level},
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": dict(sorted(self.vocab.items(), key=lambda kv: kv[1])),
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_hf_json(), f, ensure_ascii=False, indent=1)
            f.write("\n")

    @classmethod
    def load(cls, path):
        """Reads a tokenizer.json written by to_hf_json(): the BOS is the template's special
        token, the EOS the other added token."""
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
                  for m in data["model"]["merges"]]
        vocab = dict(data["model"]["vocab"])
        added = [t["content"] for t in data["added_tokens"]]
        for t in data["added_tokens"]:
            vocab[t["content"]] = t["id"]
        bos = data["post_processor"]["single"][0]["SpecialToken"]["id"]
        eos = next(t for t in added if t != bos)
        return cls(vocab, merges, bos, eos)


def main():
    """Prints ids as `kiln tokenize` does: TOKENIZER_JSON FILE [--lines] (--lines: one line of
    ids per text line, without the BOS, as `kiln tokenize --lines --no-special`)."""
    import sys
    args = [a for a in sys.argv[1:] if a != "--lines"]
    tok = Tokenizer.load(args[0])
    with open(args[1], encoding="utf-8", newline="") as f:
        text = f.read()
    if "--lines" in sys.argv:
        for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
            print(" ".join(map(str, tok.encode(line, add_bos=False))))
    else:
        print(" ".join(map(str, tok.encode(text))))


if __name__ == "__main__":
    main()
