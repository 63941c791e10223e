"""The commonest passwords, recognised by pattern: what a thief tries first on a lost device.

No list of leaked passwords ships here (none is available offline, and a big one would
weigh more than the app). Instead a passphrase is refused when it is made of at most three
pieces, at least half of its characters in recognised pieces, each piece being one of:

- `one_character`: one character repeated (11111111, aaaa);
- `sequence`: consecutive digits or letters, either way (12345678, 87654321, abcdef);
- `repeated`: a short group repeated (12121212, abcabc, woaiwoai, 520520);
- `date`: YYYYMMDD, DDMMYYYY or MMDDYYYY of 1930-2039, or YYMMDD (19900101, 901231);
- `keyboard`: a walk along the US keyboard or the number pad: rows (qwertyui, asdfgh),
  columns and zigzags (1qaz2wsx, zaq12wsx, 1q2w3e4r, qazwsx, qweasdzxc), the shifted
  digit row (!@#$%^), the number pad (147258369, 789456123, 159357);
- `common`: a word from `COMMON` below: the leaders of the public lists of leaked
  passwords (English and Chinese sites' leaks), classic pinyin and number phrases
  (woaini, 5201314, 1314520, 7758521), pinyin surnames, and words of this app's world
  (police, jingcha, gongan); matched after undoing the usual letter swaps
  (p@ssw0rd, pa55word, iloveyou -> 1l0veyou).

and the other pieces "filler": up to 2 characters of any kind, up to 4 digits (a year,
1314), or up to 3 symbols. So `password1`, `zhang1990`, `woaini1314`, `qq123456`,
`a123456789`, `1234qwer` and `zl19900101` are refused; `demo-station` and a phrase of
several unrelated words pass. `weakness` names which pattern it found.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from itertools import pairwise

#: Why a passphrase is refused, strongest pattern first (the order a piece is classified in).
KINDS = ("one_character", "sequence", "repeated", "date", "keyboard", "common")
#: A passphrase longer than this is only checked as a whole (one character or one group repeated).
MAX_SPLIT = 64

_LEET = str.maketrans(
    {"0": "o", "1": "i", "!": "i", "l": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t"}
)

#: The words, as a block of text (it reads and diffs better than a list literal).
_WORDS = """
    password passwd passphrase pass mima wodemima mimamima admin administrator root login
    guest test tester demo123 default changeme welcome letmein access secret mypassword
    iloveyou iloveu loveme lovely love123 forever princess sunshine football baseball soccer
    hockey monkey dragon master shadow superman batman spiderman starwars pokemon naruto
    michael jennifer jordan hunter ranger buster charlie andrew thomas jessica daniel
    computer internet google baidu tencent taobao weixin wechat qqqq whatever freedom
    trustno1 hello hellokitty flower angel cookie cheese summer winter spring autumn
    killer pepper ginger banana orange apple chocolate matrix zxcvbn qwerty azerty
    dearbook xiazhili woaini aini woaiwojia woaiwoma woainima woaiminjing zhongguo
    beijing shanghai guangzhou shenzhen nihao laogong laopo baobao baobei xiaobao tiantian
    kuaile xingfu pingan fuqi xiaoming xiaohong zhangsan lisi wangwu zhaoliu
    wang zhang liu chen yang huang zhao zhou sun zhu guo lin gao luo zheng liang xie song
    tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang jiao jin
    police jingcha gongan paichusuo minjing fujing suozhang fieldapp
    5201314 1314520 5211314 1314521 7758521 7758258 584520 3344520 13145200 520520
    147258369 741852963 789456123 123654789 147852369 159357 159753 110120119 31415926
    11235813 168168 666888 888666 8888 6666 1314 520 521
"""
COMMON = frozenset(word.translate(_LEET) for word in _WORDS.split())

_WALKS = (
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "~!@#$%^&*()_+",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "qazwsxedcrfvtgbyhnujmik,ol.p;/",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "!qaz@wsx#edc$rfv%tgb",
    "qweasdzxc",
    "7894561230",
    "1472580369",
    "3692581470",
)
_RUNS = ("01234567890", "abcdefghijklmnopqrstuvwxyz")


def _in_any(piece: str, lines: tuple[str, ...]) -> bool:
    return any(piece in line or piece in line[::-1] for line in lines)


def _is_date(digits: str) -> bool:
    if not digits.isdigit() or len(digits) not in (6, 8):
        return False
    if len(digits) == 6:
        forms = [(1900 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))]
    else:
        y, m, d = int(digits[:4]), int(digits[4:6]), int(digits[6:])
        forms = [(y, m, d), (int(digits[4:]), int(digits[2:4]), int(digits[:2]))]
        forms.append((int(digits[4:]), int(digits[:2]), int(digits[2:4])))
    for year, month, day in forms:
        if len(digits) == 8 and not 1930 <= year <= 2039:
            continue
        try:
            date(year, month, day)
        except ValueError:
            continue
        return True
    return False


def _is_repeated(piece: str) -> bool:
    n = len(piece)
    return n >= 4 and any(n // size >= 2 and piece == (piece[:size] * n)[:n] for size in range(1, n // 2 + 1))


def piece_kind(piece: str) -> str | None:
    """The pattern a lowercase piece is, or None; see the module's list."""
    if len(piece) >= 3 and len(set(piece)) == 1:
        return "one_character"
    if len(piece) >= 3 and _in_any(piece, _RUNS):
        return "sequence"
    if _is_repeated(piece):
        return "repeated"
    if _is_date(piece):
        return "date"
    if len(piece) >= 3 and _in_any(piece, _WALKS):
        return "keyboard"
    if len(piece) >= 3 and piece.translate(_LEET) in COMMON:
        return "common"
    return None


def _is_filler(piece: str) -> bool:
    return (
        len(piece) <= 2
        or (piece.isdigit() and len(piece) <= 4)
        or (len(piece) <= 3 and not any(ch.isalnum() for ch in piece))
    )


def weakness(passphrase: str) -> str | None:
    """Which of `KINDS` makes `passphrase` one of the commonest passwords, or None."""
    text = passphrase.strip().lower()
    if not text:
        return None
    whole = piece_kind(text)
    if whole is not None:
        return whole
    if len(text) > MAX_SPLIT:
        return None
    return _split_weakness(text)


def _split_weakness(text: str) -> str | None:
    """Try every split into two or three pieces; the kind of the longest recognised piece."""
    n = len(text)

    @cache
    def kind(start: int, end: int) -> str | None:
        return piece_kind(text[start:end])

    best: tuple[int, int, str] | None = None  # (pieces, -covered, kind)
    cuts = [(i,) for i in range(1, n)] + [(i, j) for i in range(1, n) for j in range(i + 1, n)]
    for cut in cuts:
        bounds = [0, *cut, n]
        spans = list(pairwise(bounds))
        if not all(kind(s, e) is not None or _is_filler(text[s:e]) for s, e in spans):
            continue
        recognised = [(e - s, k) for s, e in spans if (k := kind(s, e)) is not None]
        covered = sum(length for length, _ in recognised)
        if not recognised or 2 * covered < n:
            continue
        longest = max(recognised, key=lambda item: (item[0], -KINDS.index(item[1])))[1]
        candidate = (len(spans), -covered, longest)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    return best[2] if best else None
